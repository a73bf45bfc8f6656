"""TensorBoard logging: tools/train.py --tensorboard, MMSSL_US_TENSORBOARD=1 (also for runners
built without tools/train.py, as a study's fine-tuning), the tensorboard package optional."""
import glob
import os
import os.path as osp
import subprocess
import sys

import pytest
from mmengine.config import Config

from mmssl_us import tensorboard_log
from mmssl_us.tensorboard_log import enable_tensorboard, wanted

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOY = osp.join(ROOT, 'tests', '_toy')
CONFIG = osp.join(TOY, 'toy_config.py')


def _scalar_tags(work_dir):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    (events, ) = glob.glob(osp.join(work_dir, '*', 'vis_data', 'events.out.tfevents.*'))
    acc = EventAccumulator(events)
    acc.Reload()
    return acc, set(acc.Tags()['scalars'])


def test_switch_values():
    assert not wanted({}) and not wanted({'MMSSL_US_TENSORBOARD': '0'})
    assert wanted({'MMSSL_US_TENSORBOARD': '1'})
    with pytest.raises(ValueError, match=r"MMSSL_US_TENSORBOARD='yes': use 1"):
        wanted({'MMSSL_US_TENSORBOARD': 'yes'})


def test_a_missing_package_is_named(monkeypatch):
    monkeypatch.setitem(sys.modules, 'tensorboard', None)  # as if not installed
    with pytest.raises(ImportError, match='pip install tensorboard'):
        enable_tensorboard(Config(dict(visualizer=dict(type='Visualizer'))))


def test_enable_adds_the_backend_once():
    pytest.importorskip('tensorboard')
    cfg = Config(dict(visualizer=dict(type='SegLocalVisualizer',
                                      vis_backends=[dict(type='LocalVisBackend')])))
    assert enable_tensorboard(cfg) and not enable_tensorboard(cfg)
    assert [b['type'] for b in cfg.visualizer.vis_backends] == ['LocalVisBackend',
                                                                 'TensorboardVisBackend']
    bare = Config(dict(model=dict(type='X')))
    enable_tensorboard(bare)
    assert [b['type'] for b in bare.visualizer.vis_backends] == ['LocalVisBackend',
                                                                  'TensorboardVisBackend']


def test_train_py_tensorboard_writes_the_loss(tmp_path):
    pytest.importorskip('tensorboard')
    env = dict(os.environ, OMP_NUM_THREADS='1')
    env['PYTHONPATH'] = os.pathsep.join([TOY, ROOT, env.get('PYTHONPATH', '')])
    env.pop('MMSSL_US_TENSORBOARD', None)
    work = str(tmp_path / 'w')
    out = subprocess.run([sys.executable, osp.join(ROOT, 'tools', 'train.py'), CONFIG,
                          '--work-dir', work, '--tensorboard'], capture_output=True, text=True,
                         env=env, timeout=180)
    assert out.returncode == 0, out.stderr[-3000:]
    acc, tags = _scalar_tags(work)
    assert {'loss', 'lr'} <= tags
    assert [e.step for e in acc.Scalars('loss')] == list(range(1, 13))  # one per iteration
    # and without the switch no event file
    plain = str(tmp_path / 'plain')
    out = subprocess.run([sys.executable, osp.join(ROOT, 'tools', 'train.py'), CONFIG,
                          '--work-dir', plain], capture_output=True, text=True, env=env,
                         timeout=180)
    assert out.returncode == 0, out.stderr[-3000:]
    assert not glob.glob(osp.join(plain, '*', 'vis_data', 'events.out.tfevents.*'))


def test_env_switch_reaches_a_runner_built_directly(tmp_path, monkeypatch):
    """A study's fine-tuning builds Runner.from_cfg itself; the seg configs' LabelFractionHook
    attaches TensorBoard in before_run when MMSSL_US_TENSORBOARD=1."""
    pytest.importorskip('tensorboard')
    from mmengine.runner import Runner

    from mmssl_us.seg.engine.label_fraction_hook import LabelFractionHook
    monkeypatch.syspath_prepend(TOY)
    monkeypatch.setenv('MMSSL_US_TENSORBOARD', '1')
    cfg = Config.fromfile(CONFIG)
    cfg.work_dir = str(tmp_path / 'w')
    cfg.train_cfg.max_iters = 3
    runner = Runner.from_cfg(cfg)
    hook = LabelFractionHook()
    hook.before_run(runner)
    assert not tensorboard_log.attach_tensorboard(runner)  # already there: not added twice
    runner.train()
    _, tags = _scalar_tags(cfg.work_dir)
    assert 'loss' in tags
