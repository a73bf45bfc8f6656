"""Every tool answers --help, and the distributed tools build the right torchrun command."""
import os.path as osp
import subprocess
import sys

import pytest

from mmssl_us.distributed import torchrun_command

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOLS = osp.join(ROOT, 'tools')


@pytest.mark.parametrize('tool, expect', [
    ('train.py', '--resume'), ('test.py', 'checkpoint'), ('dist_test.py', 'gpus'),
    ('model_converters/pretrain2seg.py', '--verify'), ('run_study.py', '--work-dir'),
    ('infer.py', '--pixel-size-csv'), ('analysis/check_leakage.py', '--near-bits'),
    ('run_study.py', '--cfg-options')])
@pytest.mark.slow
def test_python_tool_help(tool, expect):
    out = subprocess.run([sys.executable, osp.join(TOOLS, tool), '--help'],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert expect in out.stdout


@pytest.mark.slow
@pytest.mark.parametrize('command, expect', [('train', '--resume'), ('test', 'checkpoint')])
def test_package_entry_points_help(command, expect):
    out = subprocess.run([sys.executable, '-m', 'mmssl_us.launch', command, '--help'],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert expect in out.stdout


@pytest.mark.slow
def test_package_entry_point_usage():
    bad = subprocess.run([sys.executable, '-m', 'mmssl_us.launch', 'fly'],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and 'train,test' in bad.stderr


@pytest.mark.parametrize('tool', ['dist_train.sh', 'dist_test.sh', 'slurm_train.sh'])
def test_shell_tool_usage(tool):
    out = subprocess.run(['bash', osp.join(TOOLS, tool)], capture_output=True, text=True)
    assert out.returncode == 2 and 'usage' in out.stderr


@pytest.mark.slow
def test_dist_test_dry_run_command():
    out = subprocess.run([sys.executable, osp.join(TOOLS, 'dist_test.py'), 'c.py', 'k.pth', '4',
                          '--out', 'm.json', '--dry-run'], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    cmd = out.stdout.split()
    assert cmd[1:3] == ['-m', 'torch.distributed.run']
    assert '--nproc_per_node=4' in cmd
    i = cmd.index('mmssl_us.launch')  # the package's entry point, not a path into tools/
    assert cmd[i - 1] == '-m'
    assert cmd[i + 1:] == ['test', 'c.py', 'k.pth', '--out', 'm.json', '--launcher', 'pytorch']


def test_torchrun_command_rejects_zero():
    with pytest.raises(ValueError, match='0'):
        torchrun_command('x.py', [], 0)
