"""tools/generate_synthetic.py: help, a tiny run, idempotence and the mismatch error."""
import json
import os.path as osp
import subprocess
import sys

import pytest

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = osp.join(ROOT, 'tools', 'generate_synthetic.py')


def _run(*args):
    return subprocess.run([sys.executable, TOOL, *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)


@pytest.mark.slow
def test_help():
    out = _run('--help')
    assert out.returncode == 0
    for flag in ('--out', '--patients', '--frames', '--unlabelled', '--size', '--seed',
                 '--workers', '--overwrite'):
        assert flag in out.stdout


@pytest.mark.slow
def test_tiny_run_then_rerun_then_mismatch(tmp_path):
    args = ['--out', str(tmp_path), '--patients', '3', '--frames', '2', '--unlabelled', '2',
            '--size', '40', '48', '--seed', '3']
    first = _run(*args)
    assert first.returncode == 0, first.stderr
    with open(tmp_path / 'synthetic.json') as f:
        manifest = json.load(f)
    assert manifest['params']['size'] == [40, 48] and manifest['complete']
    assert len(list((tmp_path / 'unlabelled').iterdir())) == 2
    second = _run(*args)
    assert second.returncode == 0 and 'nothing to do' in second.stderr
    third = _run(*args[:-1], '4')
    assert third.returncode == 2 and '--overwrite' in third.stderr and 'seed=3' in third.stderr
    fourth = _run(*args[:-1], '4', '--overwrite')
    assert fourth.returncode == 0, fourth.stderr


@pytest.mark.parametrize('args,message', [
    (['--patients', '0'], '--patients must be at least 3'),
    (['--patients', '2'], '--patients must be at least 3'),
    (['--frames', '0'], '--frames must be at least 1'),
    (['--unlabelled', '-1'], '--unlabelled must be at least 0')])
def test_empty_dataset_is_refused(tmp_path, capsys, args, message):
    """Issue 10, case 8: `--patients 0` exited 0 with empty splits."""
    from mmssl_us.synthetic.cli import main
    out = tmp_path / 'knee'
    assert main(['--out', str(out), '--size', '32', *args]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()
