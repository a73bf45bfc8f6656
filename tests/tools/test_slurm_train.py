"""tools/slurm_train.sh in dry-run mode: the srun command it would run, as mmseg's script."""
import os
import os.path as osp
import shlex
import subprocess

import pytest

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SCRIPT = osp.join(ROOT, 'tools', 'slurm_train.sh')
TRAIN = osp.join(ROOT, 'tools', 'train.py')


def slurm(*args, check=True, **env):
    full = {k: v for k, v in os.environ.items()
            if k not in ('GPUS', 'GPUS_PER_NODE', 'CPUS_PER_TASK', 'SRUN_ARGS', 'PORT')}
    full.update(dict(DRY_RUN='1', PYTHON='python'), **env)
    out = subprocess.run(['bash', SCRIPT, *args], capture_output=True, text=True, env=full,
                         timeout=30)
    if check:
        assert out.returncode == 0, out.stderr
    return out


def test_two_nodes_of_eight_gpus():
    out = slurm('gpu', 'densecl', 'configs/densecl/r50_knee.py', '--amp', '--cfg-options',
                'train_dataloader.batch_size=4', GPUS='16', GPUS_PER_NODE='8',
                CPUS_PER_TASK='6', SRUN_ARGS='--time=2:00:00 --qos=normal')
    assert shlex.split(out.stdout) == [
        'srun', '-p', 'gpu', '--job-name=densecl', '--gres=gpu:8', '--ntasks=16',
        '--ntasks-per-node=8', '--cpus-per-task=6', '--kill-on-bad-exit=1', '--time=2:00:00',
        '--qos=normal', 'python', '-u', TRAIN, 'configs/densecl/r50_knee.py',
        '--launcher', 'slurm', '--amp', '--cfg-options', 'train_dataloader.batch_size=4']


def test_defaults_work_dir_and_quoting():
    out = slurm('part', 'job', 'a b.py', 'work dirs/x', "--cfg-options", "x='1 2'")
    cmd = shlex.split(out.stdout)
    assert cmd[:8] == ['srun', '-p', 'part', '--job-name=job', '--gres=gpu:8', '--ntasks=8',
                       '--ntasks-per-node=8', '--cpus-per-task=5']
    assert cmd[-6:] == ['a b.py', '--work-dir=work dirs/x', '--launcher', 'slurm',
                        '--cfg-options', "x='1 2'"]


def test_dry_run_flag_and_a_job_smaller_than_a_node():
    out = slurm('p', 'j', 'c.py', '--dry-run', GPUS='2', DRY_RUN='0')
    cmd = shlex.split(out.stdout)
    assert '--gres=gpu:2' in cmd and '--ntasks-per-node=2' in cmd and '--ntasks=2' in cmd
    assert '--dry-run' not in cmd


@pytest.mark.parametrize('env, message', [
    (dict(GPUS='0'), "GPUS must be a positive integer, got '0'"),
    (dict(GPUS_PER_NODE='eight'), "GPUS_PER_NODE must be a positive integer, got 'eight'"),
    (dict(GPUS='12', GPUS_PER_NODE='8'), 'GPUS=12 is not a multiple of GPUS_PER_NODE=8'),
])
def test_bad_counts_are_named(env, message):
    out = slurm('p', 'j', 'c.py', check=False, **env)
    assert out.returncode == 2 and message in out.stderr and not out.stdout


def test_usage():
    out = slurm('p', 'j', check=False)
    assert out.returncode == 2 and 'usage:' in out.stderr


def test_dist_train_two_nodes_dry_run():
    """tools/dist_train.sh on node 1 of 2 (the 2-process run itself: test_dist_train.py)."""
    env = dict(os.environ, DRY_RUN='1', PYTHON='python', NNODES='2', NODE_RANK='1',
               MASTER_ADDR='10.0.0.1', PORT='29600')
    out = subprocess.run(['bash', osp.join(ROOT, 'tools', 'dist_train.sh'), 'c.py', '4',
                          '--amp'], capture_output=True, text=True, env=env, timeout=30)
    assert out.returncode == 0, out.stderr
    assert shlex.split(out.stdout) == [
        'python', '-m', 'torch.distributed.run', '--nnodes=2', '--node_rank=1',
        '--master_addr=10.0.0.1', '--nproc_per_node=4', '--master_port=29600', TRAIN, 'c.py',
        '--launcher', 'pytorch', '--amp']
