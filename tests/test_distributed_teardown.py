"""The gloo group that ``prepare_cpu_distributed`` opens is closed before the interpreter is
torn down (a one-process group, in a child process: the handler runs at that child's exit)."""
import os
import socket
import subprocess
import sys
import textwrap

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

CHILD = textwrap.dedent("""
    import atexit
    import torch.distributed as dist
    from mmengine.config import Config
    from mmssl_us.distributed import prepare_cpu_distributed

    # atexit runs last-registered first: this handler, registered before the group opens,
    # runs after the teardown and reports what it found
    atexit.register(lambda: print('initialised at exit:', dist.is_initialized(), flush=True))
    cfg = Config(dict(launcher='pytorch', custom_hooks=[]))
    prepare_cpu_distributed(cfg)
    print('initialised after prepare:', dist.is_initialized(), flush=True)
    print('wrapper:', cfg.model_wrapper_cfg['type'], flush=True)
""")


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return str(s.getsockname()[1])


def test_gloo_group_destroyed_before_interpreter_exit():
    env = dict(os.environ, MASTER_ADDR='127.0.0.1', MASTER_PORT=_free_port(), RANK='0',
               LOCAL_RANK='0', WORLD_SIZE='1', OMP_NUM_THREADS='1', CUDA_VISIBLE_DEVICES='')
    env['PYTHONPATH'] = os.pathsep.join([ROOT] + ([env['PYTHONPATH']]
                                                  if env.get('PYTHONPATH') else []))
    out = subprocess.run([sys.executable, '-c', CHILD], capture_output=True, text=True,
                         env=env, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    assert 'initialised after prepare: True' in out.stdout, out.stdout
    assert 'wrapper: CPUDistributedDataParallel' in out.stdout, out.stdout
    assert 'initialised at exit: False' in out.stdout, out.stdout
