"""PlainCheckpointHook: pretraining checkpoints load with plain torch.load(weights_only=True) in a
fresh interpreter, and --resume still restores the iteration and the message hub exactly."""
import copy
import os.path as osp
import subprocess
import sys
from collections import OrderedDict

import numpy as np
import pytest
import torch
from mmengine.hooks import Hook
from mmengine.logging import HistoryBuffer
from mmengine.runner import Runner

from mmssl_us.pretrain.hooks import PlainCheckpointHook
from mmssl_us.pretrain.hooks.plain_checkpoint import TAG, from_plain, to_plain

from .test_queue_hook import tiny_cfg as _tiny_cfg

pytestmark = pytest.mark.usefixtures('cheap_config_text')


def _same(a, b):
    """Equal values *and* types, recursively (numpy dtypes and shapes included)."""
    assert type(a) is type(b), (type(a), type(b))
    if isinstance(a, HistoryBuffer):
        keys = set(vars(a)) - {'statistics_methods'}  # a class-wide table, see the hook
        assert keys == set(vars(b)) - {'statistics_methods'}
        for key in keys:
            _same(vars(a)[key], vars(b)[key])
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b)
    elif isinstance(a, torch.Tensor):
        assert torch.equal(a, b)
    elif isinstance(a, dict):
        assert list(a) == list(b)
        for key in a:
            _same(a[key], b[key])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _same(x, y)
    elif isinstance(a, np.generic):
        assert a.dtype == b.dtype and a == b
    else:
        assert a == b


def tiny_cfg(tmp_path, media, **kwargs):
    """The queue hook tests' tiny DenseCL run, with every excluded evaluation folder present."""
    cfg = _tiny_cfg(tmp_path, media, **kwargs)
    for sub in cfg.train_dataloader.dataset.get('exclude', []):
        (tmp_path / 'data' / sub).mkdir(parents=True, exist_ok=True)
    return cfg


def test_round_trip_is_exact_and_plain(tmp_path):
    buf = HistoryBuffer([1.5, 2.25], [1, 2], max_length=7)
    buf.update(0.1)
    obj = OrderedDict(
        hub=dict(log_scalars=OrderedDict(loss=buf), runtime_info={'iter': 3, 'x': (1, [2])}),
        arrays=[np.arange(6, dtype=np.int16).reshape(2, 3), np.zeros((0, ), np.float32),
                np.array(2.5), np.array(['a', 'bc']), np.array([1, 'x', None], dtype=object)],
        scalars=(np.float32(0.1), np.int64(-3), np.bool_(True)), dtype=np.dtype('uint8'),
        tensor=torch.arange(3.))
    plain = to_plain(obj)
    path = str(tmp_path / 'plain.pth')
    torch.save(plain, path)
    assert torch.serialization.get_unsafe_globals_in_checkpoint(path) == []
    back = from_plain(torch.load(path, weights_only=True))
    _same(obj, back)
    assert back['hub']['log_scalars']['loss'].mean() == buf.mean()
    with pytest.raises(ValueError, match='unknown .* entry \'Mystery\''):
        from_plain({TAG: 'Mystery'})


@pytest.mark.slow
def test_densecl_checkpoint_loads_plainly_and_resumes_exactly(tmp_path, media):
    cfg = tiny_cfg(tmp_path, media, n_images=8)  # 1 epoch of 2 iterations, checkpoint each epoch
    assert cfg.default_hooks.plain_checkpoint.type == 'PlainCheckpointHook'
    saved = {}

    class _GrabBeforeSave(Hook):
        priority = 'VERY_HIGH'  # before PlainCheckpointHook (LOWEST) converts it

        def before_save_checkpoint(self, runner, checkpoint):
            saved.update(copy.deepcopy({k: checkpoint[k] for k in ('message_hub', 'meta')}))

    runner = Runner.from_cfg(cfg)
    runner.register_hook(_GrabBeforeSave())
    assert any(isinstance(h, PlainCheckpointHook) for h in runner.hooks)
    runner.train()
    ckpt = osp.join(cfg.work_dir, 'epoch_1.pth')
    # mmengine would have saved HistoryBuffer objects here: the hook is what made it plain
    assert any(isinstance(v, HistoryBuffer) for v in saved['message_hub']['log_scalars'].values())

    code = ('import sys, torch\n'
            f'ck = torch.load({ckpt!r}, weights_only=True)\n'
            'assert not [m for m in sys.modules if m.startswith(("mmssl_us", "mmengine"))]\n'
            'print(len(ck["state_dict"]), ck["meta"]["iter"], sorted(ck["message_hub"]))\n'
            f'print(torch.serialization.get_unsafe_globals_in_checkpoint({ckpt!r}))\n'
            # the case: mmpretrain's own Pretrained, prefix backbone., no mmssl_us
            'from mmpretrain.models.backbones import ResNetV1c\n'
            'net = ResNetV1c(depth=18, init_cfg=dict(type="Pretrained", prefix="backbone.", '
            f'checkpoint={ckpt!r}))\n'
            'net.init_weights()\n'
            'sd = net.state_dict()\n'
            'print("RESULT", all(torch.equal(v, ck["state_dict"]["backbone." + k]) '
            'for k, v in sd.items()), "mmssl_us" in sys.modules)\n')
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                         timeout=180)
    assert out.returncode == 0, out.stderr[-3000:]
    n_keys, it, hub_keys = out.stdout.splitlines()[0].split(' ', 2)
    assert int(n_keys) == len(runner.model.state_dict()) and int(it) == 2
    assert hub_keys == "['log_scalars', 'resumed_keys', 'runtime_info']"
    assert out.stdout.splitlines()[1] == '[]'
    assert 'RESULT True False' in out.stdout.splitlines()

    # resume: after_load_checkpoint rebuilds the HistoryBuffers before the hub loads them
    resumed = {}

    class _GrabAtStart(Hook):
        priority = 'HIGHEST'  # before RuntimeInfoHook writes the new run's epoch and iter

        def before_train(self, runner):
            resumed.update(iter=runner.iter, epoch=runner.epoch,
                           hub=copy.deepcopy(runner.message_hub.state_dict()))

    cfg2 = tiny_cfg(tmp_path, media, n_images=8, epochs=2)
    cfg2.resume = True
    cfg2.experiment_name = 'resumed'
    runner2 = Runner.from_cfg(cfg2)
    runner2.register_hook(_GrabAtStart())
    runner2.train()
    assert (resumed['iter'], resumed['epoch']) == (2, 1)
    hub = resumed['hub']
    assert set(saved['message_hub']['log_scalars']) <= set(hub['log_scalars'])
    for key, buf in saved['message_hub']['log_scalars'].items():
        _same(buf, hub['log_scalars'][key])
    for key, value in saved['message_hub']['runtime_info'].items():
        _same(value, hub['runtime_info'][key])
    assert runner2.iter == 4  # and it trained on
