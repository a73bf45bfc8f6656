"""Test-only hooks that dump per-rank training state for the 2-process tests
(tests/tools/test_dist_train.py). Imported by a config's ``custom_imports`` with this folder
on PYTHONPATH; registered in mmengine's root HOOKS, so both hosts' scopes find them."""
import hashlib
import os
import os.path as osp

import torch
from mmengine.dist import get_rank, get_world_size
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS


def digest(tensors):
    """sha1 over the bytes of the tensors, in order: equal digests mean equal values."""
    h = hashlib.sha1()
    for t in tensors:
        h.update(t.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


@HOOKS.register_module()
class QueueProbeHook(Hook):
    """Per iteration: the local keys each queue received, the pointers before and after, the
    queues, digests of the key encoder's and the online network's parameters and buffers.
    Written to ``<out>/rank<r>_<tag>.pt`` at the end of training."""

    priority = 'LOWEST'

    def __init__(self, out, tag='run'):
        self.out, self.tag, self.rows, self._keys = out, tag, [], {}

    def before_train(self, runner):
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        original = model._enqueue

        def recording(name, keys):
            self._keys[name] = keys.detach().clone()
            return original(name, keys)

        model._enqueue = recording
        self.model = model
        self.start = dict(iter=runner.iter, queue_len=int(model.queue_len),
                          queue=model.queue.detach().clone(),
                          queue_ptr=int(model.queue_ptr))

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        m = self.model
        self._keys = {}
        self._ptr = {n: int(getattr(m, f'{n}_ptr')) for n in m.queue_names}

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        m = self.model
        self.rows.append(dict(
            iter=runner.iter,
            keys=dict(self._keys),
            ptr_before=dict(self._ptr),
            ptr_after={n: int(getattr(m, f'{n}_ptr')) for n in m.queue_names},
            queues={n: getattr(m, n).detach().clone() for n in m.queue_names},
            key_params=digest(m.encoder_k.module.parameters()),
            key_buffers=digest(m.encoder_k.module.buffers()),
            online_params=digest(p for n, p in m.named_parameters()
                                 if not n.startswith('encoder_k.')),
            samples=[s.img_path for s in data_batch['data_samples']]
            if data_batch and hasattr(data_batch['data_samples'][0], 'img_path') else None))

    def after_train(self, runner):
        os.makedirs(self.out, exist_ok=True)
        torch.save(dict(rank=get_rank(), world_size=get_world_size(), start=self.start,
                        rows=self.rows, queue_len=int(self.model.queue_len)),
                   osp.join(self.out, f'rank{get_rank()}_{self.tag}.pt'))


@HOOKS.register_module()
class SegProbeHook(Hook):
    """Per rank: the training files the (fraction-drawn) dataset holds, the BN types of the
    model and the images each iteration loaded. Written to ``<out>/rank<r>.pt``."""

    priority = 'LOWEST'

    def __init__(self, out):
        self.out, self.batches = out, []

    def before_train(self, runner):
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        dataset = runner.train_dataloader.dataset
        self.files = sorted(osp.basename(d['img_path']) for d in
                            (dataset.get_data_info(i) for i in range(len(dataset))))
        self.norms = sorted({type(mod).__name__ for mod in model.modules()
                             if 'Norm' in type(mod).__name__})

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        self.batches.append([osp.basename(s.img_path) for s in data_batch['data_samples']])

    def after_train(self, runner):
        os.makedirs(self.out, exist_ok=True)
        torch.save(dict(rank=get_rank(), world_size=get_world_size(), files=self.files,
                        norms=self.norms, batches=self.batches),
                   osp.join(self.out, f'rank{get_rank()}.pt'))
