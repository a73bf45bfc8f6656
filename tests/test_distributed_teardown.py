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


ENDING = textwrap.dedent("""
    import atexit
    import sys
    import torch.distributed as dist
    from mmengine.config import Config
    from mmssl_us.cli import run_main
    from mmssl_us.distributed import prepare_cpu_distributed

    atexit.register(lambda: print('finalised', flush=True))

    def main(argv):
        prepare_cpu_distributed(Config(dict(launcher='pytorch', custom_hooks=[])))
        print('a line left in the buffer')  # not flushed here: the ending flushes it
        if argv == ['refuse']:
            raise ValueError('a bad value')
        return 3

    status = run_main(main, sys.argv[1:])
    print('run_main returned', status)
""")


def _child(code, *args):
    env = dict(os.environ, MASTER_ADDR='127.0.0.1', MASTER_PORT=_free_port(), RANK='0',
               LOCAL_RANK='0', WORLD_SIZE='1', OMP_NUM_THREADS='1', CUDA_VISIBLE_DEVICES='')
    env['PYTHONPATH'] = os.pathsep.join([ROOT] + ([env['PYTHONPATH']]
                                                  if env.get('PYTHONPATH') else []))
    return subprocess.run([sys.executable, '-c', code, *args], capture_output=True, text=True,
                          env=env, timeout=120)


def test_cpu_torchrun_process_leaves_from_run_main_without_finalising():
    out = _child(ENDING)
    assert out.returncode == 3, out.stderr[-3000:]
    assert 'a line left in the buffer' in out.stdout, out.stdout
    # left with os._exit: the caller of run_main and the atexit handlers never run
    assert 'run_main returned' not in out.stdout and 'finalised' not in out.stdout, out.stdout


def test_refusal_in_cpu_torchrun_process_keeps_its_status_and_sentence():
    out = _child(ENDING, 'refuse')
    assert out.returncode == 2, out.stderr[-3000:]
    assert 'error: a bad value' in out.stderr
    assert 'a line left in the buffer' in out.stdout and 'finalised' not in out.stdout


def test_run_main_returns_where_no_group_was_opened():
    code = ENDING.replace("prepare_cpu_distributed(Config(dict(launcher='pytorch', "
                          "custom_hooks=[])))", 'pass')
    out = _child(code)
    assert out.returncode == 0, out.stderr[-3000:]
    assert 'run_main returned 3' in out.stdout and 'finalised' in out.stdout, out.stdout
