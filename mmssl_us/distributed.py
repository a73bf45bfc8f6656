"""Distributed runs: torchrun command lines for the distributed tools (tools/dist_test.py) and
the set-up that lets a torchrun job train on machines without a GPU.

Each process runs the package's entry point, ``python -m mmssl_us.launch test``, so nothing
depends on where the repository's tools/ folder is.
"""
from __future__ import annotations

import argparse
import atexit
import os
import os.path as osp
import subprocess
import sys
from typing import List, Optional, Sequence

__all__ = ['torchrun_command', 'dist_test_main', 'register_cpu_ddp', 'prepare_cpu_distributed',
           'end_cpu_distributed', 'child_env']


def child_env(env: Optional[dict] = None) -> dict:
    """A copy of ``env`` (default: this process's) with the folder holding this ``mmssl_us``
    first on ``PYTHONPATH``: a ``python -m mmssl_us...`` child runs the same copy of the
    package as this process, installed or not."""
    env = dict(os.environ if env is None else env)
    parent = osp.dirname(osp.dirname(osp.abspath(__file__)))
    env['PYTHONPATH'] = os.pathsep.join([parent] + ([env['PYTHONPATH']]
                                                    if env.get('PYTHONPATH') else []))
    return env


def torchrun_command(script: str, script_args: Sequence[str], nproc: int,
                     env: Optional[dict] = None, module: bool = False) -> List[str]:
    """The ``python -m torch.distributed.run ...`` command running ``script`` (a file, or with
    ``module`` a module run as ``python -m script``) on ``nproc`` processes with
    ``--launcher pytorch``. Multi-node settings come from ``env``
    (NNODES, NODE_RANK, MASTER_ADDR, PORT)."""
    if nproc < 1:
        raise ValueError(f'GPUS must be >= 1, got {nproc}')
    env = os.environ if env is None else env
    return [
        sys.executable, '-m', 'torch.distributed.run',
        f'--nnodes={env.get("NNODES", "1")}', f'--node_rank={env.get("NODE_RANK", "0")}',
        f'--master_addr={env.get("MASTER_ADDR", "127.0.0.1")}',
        f'--master_port={env.get("PORT", "29500")}', f'--nproc_per_node={nproc}',
        *(['-m'] if module else []), script, *script_args, '--launcher', 'pytorch'
    ]


def dist_test_main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        description='Distributed evaluation with torchrun: CONFIG CHECKPOINT GPUS '
        '[tools/test.py options]')
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('gpus', type=int, help='processes (GPUs) per node')
    parser.add_argument('--dry-run', action='store_true',
                        help='print the torchrun command instead of running it')
    args, rest = parser.parse_known_args(argv)
    cmd = torchrun_command('mmssl_us.launch', ['test', args.config, args.checkpoint, *rest],
                           args.gpus, module=True)
    if args.dry_run:
        print(' '.join(cmd))
        return 0
    return subprocess.call(cmd, env=child_env())


def register_cpu_ddp() -> None:
    """Register ``CPUDistributedDataParallel`` (mmengine root MODEL_WRAPPERS): mmengine's DDP
    wrapper with SyncBN reverted to BN, for torchrun jobs on machines without CUDA."""
    from mmengine.model import MMDistributedDataParallel, revert_sync_batchnorm
    from mmengine.registry import MODEL_WRAPPERS
    if 'CPUDistributedDataParallel' in MODEL_WRAPPERS.module_dict:
        return

    @MODEL_WRAPPERS.register_module()
    class CPUDistributedDataParallel(MMDistributedDataParallel):

        def __init__(self, module, **kwargs):
            super().__init__(module=revert_sync_batchnorm(module), **kwargs)


#: set when :func:`prepare_cpu_distributed` opened the gloo group of this process
_CPU_GROUP_OPENED = False


def end_cpu_distributed(status: int) -> None:
    """End a CPU torchrun process that :func:`prepare_cpu_distributed` set up; no-op elsewhere.

    After a run that succeeded (``status`` 0) every rank meets at a barrier, so none tears its
    connections down while another still talks; then the group is destroyed, the output
    flushed, and the process leaves with ``os._exit(status)``, skipping interpreter
    finalisation. The ``atexit`` teardown alone was not enough: CI saw a rank die with SIGABRT
    ("terminate called without an active exception", a C++ thread still joinable when
    destroyed) after a DenseCL run that had finished and saved its last checkpoint. A
    thread-pool or gloo destructor that runs at finalisation cannot abort a process that does
    not finalise. :func:`mmssl_us.cli.run_main` calls this once the tool's main has returned.
    """
    if not _CPU_GROUP_OPENED:
        return
    import logging
    try:
        import torch.distributed as dist
        if dist.is_initialized():
            if status == 0:
                dist.barrier()
            dist.destroy_process_group()
    finally:
        logging.shutdown()
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        os._exit(status)


def _destroy_process_group() -> None:
    """Tear the gloo group down while the interpreter is still whole. Left to interpreter
    finalisation, gloo's worker threads can outlive it and the process dies with SIGABRT
    ("terminate called without an active exception") after a run that succeeded: seen once in
    CI on tests/tools/test_dist_train.py, and described in pytorch/pytorch PR 179291."""
    import torch.distributed as dist
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def prepare_cpu_distributed(cfg) -> None:
    """Let torchrun jobs run on machines without a GPU (CI boxes, laptops).

    mmengine 0.10.7's pytorch launcher calls ``torch.cuda.set_device`` and wraps the model in DDP
    with ``device_ids=[local_rank]``; both fail without CUDA. Here we join torchrun's process group
    with gloo ourselves (mmengine then skips its own init) and wrap without device ids, with
    SyncBN layers turned into plain BN (SyncBN needs CUDA; each process then normalises its own
    batch when training, and evaluation uses the running statistics either way).

    Each process then keeps running statistics of its own batches, so mmengine's
    ``SyncBuffersHook`` is added: it averages the buffers over the processes before every
    validation and after every epoch. Without it each process validated its own variant of the
    model (rank 0's statistics on rank 0's images, rank 1's on rank 1's) and the "best"
    checkpoint, written with rank 0's statistics, scored otherwise when tested.
    """
    import torch
    import torch.distributed as dist
    if cfg.get('launcher') != 'pytorch' or torch.cuda.is_available():
        return
    if not dist.is_initialized():
        global _CPU_GROUP_OPENED
        dist.init_process_group(backend='gloo')
        _CPU_GROUP_OPENED = True
        atexit.register(_destroy_process_group)  # for callers that do not end via run_main
    register_cpu_ddp()
    wrapper = dict(cfg.get('model_wrapper_cfg') or {})
    if wrapper.get('type', 'MMDistributedDataParallel') != 'MMDistributedDataParallel':
        raise ValueError(f'model_wrapper_cfg type {wrapper["type"]!r} cannot run on CPU here')
    wrapper.setdefault('broadcast_buffers', False)
    wrapper.setdefault('find_unused_parameters', cfg.get('find_unused_parameters', False))
    wrapper.update(type='CPUDistributedDataParallel', device_ids=None)
    cfg.model_wrapper_cfg = wrapper
    hooks = list(cfg.get('custom_hooks') or [])
    if not any(str(h.get('type', '')).endswith('SyncBuffersHook') for h in hooks):
        cfg.custom_hooks = hooks + [dict(type='SyncBuffersHook')]
