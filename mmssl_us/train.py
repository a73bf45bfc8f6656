"""The one training driver: ``tools/train.py``, the study's fine-tuning runs and its pretraining
runs (``python -m mmssl_us.launch train`` in a fresh process) all train through :func:`train`.

What it adds to mmengine's ``Runner`` before the first step:

* every ``init_cfg=dict(type='Pretrained')`` (and a segmentor's ``pretrained=PATH``) loads as
  ``VerifiedPretrained`` (:func:`mmssl_us.transfer.init.strict_pretrained_inits`) unless
  ``partial_load``;
* temporary files left in the work dir by a run killed mid-write are removed
  (:func:`mmssl_us.fileio.clean_stale_temporaries`);
* the work dir is claimed for this model (:func:`mmssl_us.workdir.claim_work_dir`: never over
  another model's checkpoints);
* a torchrun job on a machine without CUDA gets gloo and a CPU DDP wrapper
  (:func:`mmssl_us.distributed.prepare_cpu_distributed`);
* ``load_from`` and the checkpoint a resume would read must fit the model (key sets and shapes,
  :func:`mmssl_us.checkpoint.checkpoint_fit`): a resume after the depth changed is named
  before mmengine fails inside the optimizer;
* the training data must give at least one batch.

mmengine is imported lazily.
"""
from __future__ import annotations

import os.path as osp
from typing import Any, Iterable, Optional, Tuple

from .workdir import claim_work_dir

__all__ = ['train', 'build_runner', 'make_runner', 'resume_checkpoint', 'check_resume_fits',
           'check_epoch_not_empty']


def resume_checkpoint(cfg) -> Optional[str]:
    """The checkpoint mmengine's runner resumes from for ``cfg`` (``load_from`` when set, else
    the work dir's ``last_checkpoint``), or None when ``cfg`` does not resume or there is none
    (mmengine then starts afresh)."""
    if not cfg.get('resume'):
        return None
    if cfg.get('load_from'):
        return cfg.load_from
    from mmengine.runner import find_latest_checkpoint
    path = find_latest_checkpoint(cfg.work_dir)
    return path if path and osp.isfile(path) else None


def check_resume_fits(model, cfg) -> None:
    """Stop when the checkpoint a resume would read was written by a model of another shape.

    Compares the key sets of the model and the checkpoint, and the parameters' shapes (rather
    than reading the optimizer's or ``load_state_dict``'s error after the fact). Buffers are
    compared by name: ``NegativeQueueHook`` sizes an automatic queue when the checkpoint loads.

    Raises:
        ValueError: names the work dir, the first differing keys and what to do.
    """
    from .checkpoint import checkpoint_fit
    path = resume_checkpoint(cfg)
    if path is None:
        return
    report = checkpoint_fit(model, path, buffer_shapes=False)  # a hook may size a queue
    if not report.ok:
        raise ValueError(
            f'cannot resume in {cfg.work_dir}: its checkpoint {osp.basename(path)} was written '
            f'by a model of another shape than this config builds ({report.message()}). Did the '
            'depth or another model setting change? Resume with the config that wrote it, or '
            'train into a new --work-dir')


def check_epoch_not_empty(runner) -> None:
    """Stop when the training data gives no batch at all (a pool smaller than one batch with
    ``drop_last``): mmengine would fail later with an ``epoch_length`` of 0."""
    loader = runner.train_loop.dataloader  # builds the loop (kept for train())
    if len(loader) == 0:
        n = len(loader.dataset)
        raise ValueError(f'the training data gives no batch: {n} sample(s) and a batch size of '
                         f'{loader.batch_size} with drop_last={loader.drop_last}. Add images to '
                         'the pool or lower train_dataloader.batch_size')


def make_runner(cfg):
    """mmengine's runner of ``cfg`` (``runner_type`` honoured) after the CPU torchrun set-up;
    no other check (``tools/test.py`` builds its runner so)."""
    from mmengine.registry import RUNNERS
    from mmengine.runner import Runner

    from .distributed import prepare_cpu_distributed
    prepare_cpu_distributed(cfg)
    if 'runner_type' in cfg:
        return RUNNERS.build(cfg)
    return Runner.from_cfg(cfg)


def build_runner(cfg, partial_load: Optional[bool] = None, tensorboard: Optional[bool] = None,
                 hooks: Iterable[Tuple[Any, str]] = ()):
    """Check ``cfg``, prepare its work dir and build its runner (see the module docstring).

    Args:
        cfg (mmengine.Config): The config to train (changed in place). The keys
            ``_partial_load`` and ``_tensorboard`` that :func:`mmssl_us.launch.build_train_cfg`
            sets are taken out and used when the arguments below are None.
        partial_load (bool, optional): Keep mmengine's lenient ``Pretrained`` and
            ``load_from`` (no key check). Defaults to None (the config's ``_partial_load``).
        tensorboard (bool, optional): Also log to TensorBoard. Defaults to None (the config's
            ``_tensorboard``; ``MMSSL_US_TENSORBOARD=1`` switches it on either way).
        hooks (Iterable[tuple]): ``(hook, priority)`` pairs to register. Defaults to ().

    Returns:
        mmengine.runner.Runner: Built, its training loop built, not yet trained.
    """
    from .tensorboard_log import enable_tensorboard, wanted
    stashed_partial = cfg.pop('_partial_load', False)
    stashed_tensorboard = cfg.pop('_tensorboard', False)
    partial = stashed_partial if partial_load is None else partial_load
    if (stashed_tensorboard if tensorboard is None else tensorboard) or wanted():
        enable_tensorboard(cfg)
    if not partial and cfg.get('model') is not None:
        from .transfer.init import strict_pretrained_inits  # registers VerifiedPretrained
        for where in strict_pretrained_inits(cfg.model):
            print(f'{where}: Pretrained is loaded as VerifiedPretrained (stops on a missing or '
                  'unexpected key; --partial-load keeps mmengine\'s lenient load)')
    if 'launcher' not in cfg:  # a Config built in code rather than by the argument parser
        cfg.launcher = 'none'
    import torch
    if cfg.optim_wrapper.get('type') == 'AmpOptimWrapper' and not torch.cuda.is_available():
        raise ValueError('--amp (AmpOptimWrapper) needs a CUDA GPU and this machine has none: '
                         'run without --amp')
    from .fileio import clean_stale_temporaries
    for path in clean_stale_temporaries(cfg.work_dir):  # left by a run killed mid-write
        print(f'removed a stale temporary file of a killed run: {path}')
    claim_work_dir(cfg, resume=bool(cfg.get('resume')))  # never over another model's files
    runner = make_runner(cfg)
    if cfg.get('resume'):
        check_resume_fits(runner.model, cfg)
    elif cfg.get('load_from') and not partial:
        from .checkpoint import check_checkpoint_fits
        check_checkpoint_fits(runner.model, cfg.load_from)
    for hook, priority in hooks:
        runner.register_hook(hook, priority=priority)
    check_epoch_not_empty(runner)
    return runner


def train(cfg, partial_load: Optional[bool] = None, tensorboard: Optional[bool] = None,
          hooks: Iterable[Tuple[Any, str]] = ()):
    """Train ``cfg`` through :func:`build_runner`; returns the runner after training (its
    ``model``, ``message_hub``, dataloaders are what callers read)."""
    runner = build_runner(cfg, partial_load=partial_load, tensorboard=tensorboard, hooks=hooks)
    runner.train()
    return runner
