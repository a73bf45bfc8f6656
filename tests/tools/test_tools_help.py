"""Every tool answers --help, and the distributed tools build the right torchrun command."""
import os.path as osp
import subprocess
import sys

import pytest

from mmssl_us.distributed import torchrun_command
from mmssl_us.launch import build_train_cfg

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOLS = osp.join(ROOT, 'tools')
TOY_CONFIG = osp.join(ROOT, 'tests', '_toy', 'toy_config.py')


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


def test_train_cfg_options(monkeypatch):
    monkeypatch.syspath_prepend(osp.dirname(TOY_CONFIG))  # the config imports toy_model
    cfg = build_train_cfg([TOY_CONFIG, '--resume', '--cfg-options', 'train_cfg.max_iters=3'])
    assert cfg.resume is True and cfg.load_from is None
    assert cfg.train_cfg.max_iters == 3
    # work_dirs/<config folder>/<config name>: configs of one name in two folders never collide
    assert cfg.work_dir == osp.join('work_dirs', '_toy', 'toy_config')
    cfg = build_train_cfg([TOY_CONFIG, '--amp', '--work-dir', '/tmp/x'])
    assert cfg.optim_wrapper.type == 'AmpOptimWrapper' and cfg.work_dir == '/tmp/x'


def test_unknown_top_level_cfg_option_is_refused(monkeypatch):
    """Issue 10, case 7: `modle.backbone.depth=50` was ignored in silence."""
    monkeypatch.syspath_prepend(osp.dirname(TOY_CONFIG))
    with pytest.raises(ValueError, match=r"'modle.backbone.depth'.*did you mean 'model'"):
        build_train_cfg([TOY_CONFIG, '--cfg-options', 'modle.backbone.depth=50'])
    # keys the runner reads without the config naming them stay allowed
    cfg = build_train_cfg([TOY_CONFIG, '--cfg-options', 'experiment_name=x', 'load_from=a.pth'])
    assert cfg.experiment_name == 'x' and cfg.load_from == 'a.pth'
