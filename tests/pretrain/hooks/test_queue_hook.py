"""Tiny DenseCL runs through mmengine's Runner on CPU, without a process group: the queue is
sized by NegativeQueueHook, the loss_lambda warm-up (mmpretrain's DenseCLHook) is wired in,
a checkpoint is written, converted and resumed."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.runner import Runner

from mmssl_us.transfer import convert_checkpoint, mmpretrain_to_mmseg_resnet

pytestmark = pytest.mark.usefixtures('cheap_config_text')

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
CONFIG = osp.join(ROOT, 'configs', 'densecl', 'r50_knee.py')


class _Recorder(Hook):
    """Records, per iteration, loss_lambda before the step and the losses after it."""

    priority = 'LOWEST'

    def __init__(self):
        self.rows = []

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        assert not torch.distributed.is_initialized()  # one process, no process group
        self.rows.append(dict(iter=runner.iter, lam=runner.model.loss_lambda))

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        self.rows[-1].update({k: float(torch.as_tensor(v).detach()) for k, v in outputs.items()})


def tiny_cfg(tmp_path, media, n_images, epochs=1, start_iters=1000, queue_len='auto'):
    """configs/densecl/r50_knee.py shrunk: ResNet-18, 64 px, batch 4, the same pipeline."""
    data = tmp_path / 'data'
    (data / 'unlabelled' / 'a').mkdir(parents=True, exist_ok=True)
    for i in range(n_images):
        media.image(data / 'unlabelled' / 'a' / f'p{i}_0.png', seed=i)
    for split in ('val', 'test'):  # the evaluation folders the pool excludes
        (data / 'images' / split).mkdir(parents=True, exist_ok=True)
    cfg = Config.fromfile(CONFIG)
    cfg.work_dir = str(tmp_path / 'work')
    cfg.model.queue_len = queue_len
    cfg.model.feat_dim = 16
    cfg.model.backbone.depth = 18
    cfg.model.neck.update(in_channels=512, hid_channels=32, out_channels=16)
    loader = cfg.train_dataloader
    loader.update(batch_size=4, num_workers=0, persistent_workers=False)
    loader.dataset.data_root = str(data)
    loader.dataset.pipeline[1].transforms[0][0].scale = 64
    cfg.train_cfg.max_epochs = epochs
    cfg.default_hooks.logger.interval = 1
    cfg.default_hooks.checkpoint.interval = 1
    cfg.custom_hooks[1].start_iters = start_iters
    cfg.env_cfg.dist_cfg = dict(backend='gloo')
    return cfg


@pytest.mark.slow
def test_two_iterations_on_cpu_auto_queue_and_checkpoint(tmp_path, media):
    cfg = tiny_cfg(tmp_path, media, n_images=9)  # 9 images, batch 4: 2 iterations
    recorder = _Recorder()
    runner = Runner.from_cfg(cfg)
    runner.register_hook(recorder)
    before = runner.model.backbone.layer1[0].conv1.weight.detach().clone()
    start_queue = None

    class _Grab(Hook):
        def before_train(self, runner):
            nonlocal start_queue
            start_queue = runner.model.queue.clone()

    runner.register_hook(_Grab())
    runner.train()
    model = runner.model
    assert model.queue_len == 8  # largest multiple of 4 <= 9 images
    assert model.queue.shape == (16, 8) and model.queue2.shape == (16, 8)
    assert [r['iter'] for r in recorder.rows] == [0, 1]
    for row in recorder.rows:
        assert torch.isfinite(torch.tensor(row['loss_single']))
    # 2 iterations x 4 keys: every column replaced by a unit key, pointer wrapped to 0
    assert int(model.queue_ptr) == 0
    assert not torch.isclose(model.queue, start_queue).all(dim=0).any()
    torch.testing.assert_close(model.queue.norm(dim=0), torch.ones(8))
    assert not torch.equal(before, model.backbone.layer1[0].conv1.weight)  # it trained
    ckpt = osp.join(cfg.work_dir, 'epoch_1.pth')
    state, meta = convert_checkpoint(ckpt, str(tmp_path / 'backbone.pth'))
    expected = mmpretrain_to_mmseg_resnet(
        {k[len('backbone.'):]: v for k, v in model.state_dict().items()
         if k.startswith('backbone.')})
    assert list(state) == list(expected)
    for key, value in expected.items():
        torch.testing.assert_close(state[key], value)
    assert meta['depth'] == 18 and meta['epoch'] == 1


@pytest.mark.slow
def test_loss_lambda_warm_up(tmp_path, media):
    cfg = tiny_cfg(tmp_path, media, n_images=16, start_iters=2)  # 4 iterations
    recorder = _Recorder()
    runner = Runner.from_cfg(cfg)
    runner.register_hook(recorder)
    runner.train()
    rows = recorder.rows
    assert [r['iter'] for r in rows] == [0, 1, 2, 3]
    for r in rows[:2]:  # warm-up: dense loss off, single loss at full weight
        assert r['lam'] == 0.0 and r['loss_dense'] == 0.0 and r['loss_single'] > 0
    for r in rows[2:]:
        assert r['lam'] == 0.5 and r['loss_dense'] > 0


def test_bad_fixed_queue_fails_before_training(tmp_path, media):
    cfg = tiny_cfg(tmp_path, media, n_images=8, queue_len=10)
    runner = Runner.from_cfg(cfg)
    with pytest.raises(ValueError, match=r'queue_len=10 .*batch_size=4 x world_size=1'):
        runner.train()
    assert runner.iter == 0


def test_drop_last_is_required(tmp_path, media):
    cfg = tiny_cfg(tmp_path, media, n_images=8)
    cfg.train_dataloader.drop_last = False
    with pytest.raises(ValueError, match='drop_last=True'):
        Runner.from_cfg(cfg).train()


@pytest.mark.slow
def test_resume_keeps_the_queue(tmp_path, media):
    cfg = tiny_cfg(tmp_path, media, n_images=8)
    first = Runner.from_cfg(cfg)
    first.train()
    saved = first.model.queue.clone()
    cfg2 = tiny_cfg(tmp_path, media, n_images=8, epochs=2)
    cfg2.resume = True
    cfg2.experiment_name = 'resumed'  # a second Runner within the same second needs a new name
    grabbed = {}

    class _Grab(Hook):
        def before_train(self, runner):
            grabbed['queue'] = runner.model.queue.clone()

    second = Runner.from_cfg(cfg2)
    second.register_hook(_Grab())
    second.train()
    torch.testing.assert_close(grabbed['queue'], saved)  # loaded, not re-drawn
    assert second.iter == 4


def test_a_pool_smaller_than_one_batch_is_named(tmp_path, media):
    """Issue 10: SimCLR/DenseCL on fewer images than one batch ended in `epoch_length` 0."""
    from mmssl_us.train import check_epoch_not_empty
    cfg = tiny_cfg(tmp_path, media, n_images=3)  # batch 4, drop_last: no batch
    with pytest.raises(ValueError, match=r'no batch: 3 sample\(s\) and a batch size of 4'):
        check_epoch_not_empty(Runner.from_cfg(cfg))


@pytest.mark.slow
def test_a_resume_after_the_depth_changed_is_named(tmp_path, media):
    """Issue 10: a resume after the model changed depth ended in the optimizer's
    'parameter group' error."""
    from mmssl_us.train import train
    Runner.from_cfg(tiny_cfg(tmp_path, media, n_images=8)).train()  # ResNet-18, 1 epoch
    cfg = tiny_cfg(tmp_path, media, n_images=8, epochs=2)
    cfg.model.backbone.depth = 34
    cfg.resume = True
    cfg.experiment_name = 'deeper'
    with pytest.raises(ValueError, match=r'cannot resume in .*another shape.*depth'):
        train(cfg)


class _Runner:
    """What NegativeQueueHook.after_load_checkpoint reads: the model and a logger."""

    def __init__(self, model):
        import logging
        self.model, self.logger = model, logging.getLogger('test')


def _loaded(hook, model, batch_size, world_size, auto=True):
    hook._batch, hook._auto = (batch_size, world_size), auto  # what before_run records


def test_a_checkpoint_queue_of_another_length_is_kept_under_auto(build_model):
    """Issue 22: a 2-process checkpoint (queue 16) resumed by 1 process, whose 'auto' rule
    gives 20, lost its keys ("size mismatch" warning, fresh random queues)."""
    from mmssl_us.pretrain.hooks import NegativeQueueHook
    model = build_model(queue_len='auto')
    model.resize_queues(20)
    saved = {n: torch.nn.functional.normalize(torch.randn(16, 16), dim=0)
             for n in ('queue', 'queue2')}
    state = dict(saved, queue_ptr=torch.tensor([8]), queue2_ptr=torch.tensor([8]))
    hook = NegativeQueueHook()
    _loaded(hook, model, batch_size=4, world_size=1)
    hook.after_load_checkpoint(_Runner(model), {'state_dict': state})
    assert model.queue_len == 16 and model.queue.shape == (16, 16)
    model.load_state_dict(state, strict=False)
    torch.testing.assert_close(model.queue, saved['queue'], rtol=0, atol=0)
    assert int(model.queue_ptr) == 8  # 8 is a multiple of the batch 4: unchanged


def test_a_pointer_off_the_global_batch_is_rotated_to_zero(build_model):
    """Written by 1 process at batch 4 (pointer 4), resumed by 2 (global batch 8): the next
    write would run past the end; the queue is rotated so the oldest key comes first."""
    from mmssl_us.pretrain.hooks import NegativeQueueHook
    model = build_model(queue_len=16)
    queue = torch.arange(16.).repeat(16, 1)
    state = dict(queue=queue.clone(), queue2=queue.clone(), queue_ptr=torch.tensor([4]),
                 queue2_ptr=torch.tensor([4]))
    hook = NegativeQueueHook()
    _loaded(hook, model, batch_size=4, world_size=2, auto=False)
    hook.after_load_checkpoint(_Runner(model), {'state_dict': state})
    assert int(state['queue_ptr']) == 0
    assert state['queue'][0].tolist() == list(range(4, 16)) + list(range(4))


def test_checkpoint_queues_that_cannot_fit_are_named(build_model):
    from mmssl_us.pretrain.hooks import NegativeQueueHook
    model = build_model(queue_len=8)
    state = dict(queue=torch.zeros(16, 12), queue2=torch.zeros(16, 12),
                 queue_ptr=torch.tensor([0]), queue2_ptr=torch.tensor([0]))
    hook = NegativeQueueHook()
    _loaded(hook, model, batch_size=4, world_size=1, auto=False)
    with pytest.raises(ValueError, match=r'hold 12 keys but the config says queue_len=8'):
        hook.after_load_checkpoint(_Runner(model), {'state_dict': state})
    auto = build_model(queue_len='auto')
    _loaded(hook, auto, batch_size=4, world_size=2)
    with pytest.raises(ValueError, match=r'12 keys, not a multiple of .* global batch 8 '
                       r'\(batch_size=4 x world_size=2\)'):
        hook.after_load_checkpoint(_Runner(auto), {'state_dict': state})
