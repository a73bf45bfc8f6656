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


@pytest.mark.slow
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


@pytest.mark.slow
def test_env_switch_reaches_the_studys_fine_tuning(tmp_path, monkeypatch):
    """A study's fine-tuning builds its Runner itself (mmssl_us.study.finetune); with
    MMSSL_US_TENSORBOARD=1 its loss and val mIoU reach TensorBoard."""
    pytest.importorskip('tensorboard')
    from mmssl_us.study.finetune import RunKey, finetune_once
    from mmssl_us.synthetic.writer import write_knee_dataset
    knee = str(tmp_path / 'knee')
    write_knee_dataset(knee, n_patients=6, frames_per_patient=2, n_unlabelled=0, size=48,
                       seed=0, progress_every=10**6)
    spec = dict(config=osp.join(ROOT, 'configs', 'fcn',
                                'fcn_r50-d8-random_1xb16-40k_knee-256x256.py'),
                shrink=dict(crop_size=32, img_scale=48, max_iters=2, val_interval=2,
                            batch_size=2, depth=18, head_channels=8, num_workers=0),
                cfg_options={'log_level': 'WARNING', 'default_hooks.logger.interval': 1})
    monkeypatch.setenv('MMSSL_US_TENSORBOARD', '1')
    finetune_once(RunKey('random', 1.0, 0), spec, None, str(tmp_path / 'w'), knee)
    _, tags = _scalar_tags(str(tmp_path / 'w'))
    assert 'loss' in tags and 'mIoU' in tags
    monkeypatch.setenv('MMSSL_US_TENSORBOARD', '0')
    finetune_once(RunKey('random', 1.0, 0), spec, None, str(tmp_path / 'plain'), knee)
    assert not glob.glob(str(tmp_path / 'plain' / '*' / 'vis_data' / 'events.out.tfevents.*'))
