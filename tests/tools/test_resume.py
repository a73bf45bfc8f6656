"""A real training subprocess killed with SIGKILL, then resumed with --resume auto."""
import os
import os.path as osp
import signal
import subprocess
import sys
import time

import pytest
import torch

from mmssl_us.checkpoint import safe_load

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOY = osp.join(ROOT, 'tests', '_toy')
CONFIG = osp.join(TOY, 'toy_config.py')


def _env(sleep: float) -> dict:
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join([TOY, ROOT, env.get('PYTHONPATH', '')])
    env['TOY_SLEEP'] = str(sleep)
    return env


def _train(work_dir, *extra, sleep=0.0):
    cmd = [sys.executable, osp.join(ROOT, 'tools', 'train.py'), CONFIG, '--work-dir',
           str(work_dir), *extra]
    return subprocess.run(cmd, env=_env(sleep), capture_output=True, text=True, timeout=240)


def _last(work_dir):
    p = osp.join(work_dir, 'last_checkpoint')
    return open(p).read().strip() if osp.exists(p) else ''


@pytest.mark.slow
def test_kill_then_resume_auto_matches_uninterrupted(tmp_path):
    ref_dir, run_dir = tmp_path / 'ref', tmp_path / 'run'
    ref = _train(ref_dir)
    assert ref.returncode == 0, ref.stderr[-3000:]

    # start, wait for the first checkpoint (iter 4 of 12), then SIGKILL mid-training
    proc = subprocess.Popen(
        [sys.executable, osp.join(ROOT, 'tools', 'train.py'), CONFIG, '--work-dir', str(run_dir)],
        env=_env(0.3), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 180
    while time.time() < deadline and not _last(run_dir).endswith('iter_4.pth'):
        assert proc.poll() is None, 'training ended before it could be killed'
        time.sleep(0.05)
    assert _last(run_dir).endswith('iter_4.pth'), 'no checkpoint appeared in time'
    time.sleep(0.5)  # let it get into iterations 5..
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert not osp.exists(run_dir / 'iter_12.pth'), 'the run finished before the kill'
    killed_at = _last(run_dir)
    # nothing in the work dir is torn: every checkpoint there loads
    for name in os.listdir(run_dir):
        assert not name.endswith('.tmp'), f'temporary file left: {name}'
        if name.endswith('.pth'):
            safe_load(str(run_dir / name))

    res = _train(run_dir, '--resume', 'auto')
    assert res.returncode == 0, res.stderr[-3000:]
    log = res.stdout + res.stderr
    start_iter = int(osp.basename(killed_at)[len('iter_'):-len('.pth')])
    assert f'resumed epoch: 0, iter: {start_iter}' in log, log[-2000:]

    a = safe_load(str(ref_dir / 'iter_12.pth'))
    b = safe_load(str(run_dir / 'iter_12.pth'))
    assert a['meta']['iter'] == b['meta']['iter'] == 12
    for k in a['state_dict']:
        torch.testing.assert_close(b['state_dict'][k], a['state_dict'][k])
    for pa, pb in zip(a['optimizer']['state'].values(), b['optimizer']['state'].values()):
        torch.testing.assert_close(pb['momentum_buffer'], pa['momentum_buffer'])
    assert b['param_schedulers'] == a['param_schedulers']


@pytest.mark.slow
def test_resume_with_missing_path_names_it(tmp_path):
    res = _train(tmp_path / 'w', '--resume', str(tmp_path / 'missing.pth'))
    assert res.returncode != 0
    assert 'missing.pth' in res.stderr
