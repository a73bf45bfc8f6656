"""A test-only hook that spoils the model after its last training iteration: the decode
head's classifier then predicts the last class everywhere, so the last iterate validates worse
than an earlier one (tests/study/test_runner_finetune.py: the test split is read on the
best-val checkpoint, not on the last iterate). Registered in mmengine's root HOOKS."""
import torch
from mmengine.hooks import Hook
from mmengine.registry import HOOKS


@HOOKS.register_module()
class SpoilLastIterHook(Hook):
    priority = 'HIGHEST'

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        if runner.iter + 1 == runner.max_iters:
            conv = runner.model.decode_head.conv_seg
            with torch.no_grad():
                conv.weight.zero_()
                conv.bias.copy_(torch.tensor([-100.0] * (conv.bias.numel() - 1) + [100.0]))
