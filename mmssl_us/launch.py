"""The argument parsers of tools/train.py and tools/test.py, and the configs they build.

``python -m mmssl_us.launch train|test ARGS`` runs the same without the repository's tools/ (the
study runner starts pretraining so, torchrun each evaluation process of tools/dist_test.py).
The tools parse arguments; these functions turn them into an mmengine config and hand it to the
training driver (:func:`mmssl_us.train.train`) or to the runner's ``test()``. They work for
pretraining (mmpretrain scope) and segmentation (mmseg scope) configs alike: the config's own
``default_scope`` and ``custom_imports`` decide which host is loaded.
"""
from __future__ import annotations

import argparse
import os
import os.path as osp
import sys
from typing import List, Optional, Sequence

from .checkpoint import check_checkpoint_fits
from .config_utils import check_cfg_options, resolve_config
from .workdir import check_not_a_run, default_work_dir

__all__ = ['train_parser', 'test_parser', 'build_train_cfg', 'build_test_cfg', 'run_train',
           'run_test', 'main']


def _common(parser: argparse.ArgumentParser) -> None:
    from mmengine.config import DictAction
    parser.add_argument('--work-dir', help='folder for logs and checkpoints (default: '
                        'work_dirs/<config folder>/<config name>; tools/test.py: '
                        'work_dirs/test/<config folder>/<config name>)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config entries, e.g. train_dataloader.batch_size=8; '
                        'lists as key="[a,b]"')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher (torchrun: pytorch)')
    parser.add_argument('--partial-load', action='store_true',
                        help='load a checkpoint (load_from, init_cfg=Pretrained, the tested '
                        'one) even when some of the model\'s keys are missing from it or it has '
                        'others (mmengine\'s lenient load)')
    # torchrun passes --local-rank (torch >= 2.0) or --local_rank (older launchers)
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0,
                        help=argparse.SUPPRESS)


def train_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description='Train a pretraining (mmpretrain) or segmentation (mmseg) config')
    parser.add_argument('config', help='config file')
    parser.add_argument('--resume', nargs='?', type=str, const='auto',
                        help='resume: with no value (or "auto") from the latest checkpoint in '
                        'the work dir, with a path from that checkpoint')
    parser.add_argument('--amp', action='store_true',
                        help='automatic mixed precision (needs a GPU)')
    parser.add_argument('--tensorboard', action='store_true',
                        help='also log to TensorBoard (mmengine TensorboardVisBackend; event '
                        'files in <work_dir>/<timestamp>/vis_data). MMSSL_US_TENSORBOARD=1 in the '
                        'environment does the same for every run, the study\'s included')
    parser.add_argument('--auto-scale-lr', action='store_true',
                        help='scale the lr linearly with the total batch size '
                        '(needs auto_scale_lr in the config)')
    _common(parser)
    return parser


def test_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description='Evaluate a segmentation checkpoint (mIoU, mDice, and the config\'s metrics)')
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--out', help='write the metrics as JSON to this file')
    _common(parser)
    return parser


def _load_cfg(args: argparse.Namespace):
    from mmengine.config import Config

    from .checkpoint import install
    install()
    args.config = resolve_config(args.config)
    if not osp.isfile(args.config):
        raise FileNotFoundError(f'config file not found: {args.config}')
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        check_cfg_options(cfg, args.cfg_options)
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif getattr(args, 'checkpoint', None) is not None:
        # an evaluation never writes into the training run's folder (which a config saved
        # there names as its work_dir): it gets one of its own
        cfg.work_dir = default_work_dir(args.config, 'test')
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = default_work_dir(args.config)
    cfg['_partial_load'] = bool(getattr(args, 'partial_load', False))
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return cfg


def build_train_cfg(argv: Optional[Sequence[str]] = None):
    """Parse tools/train.py arguments and return the mmengine Config to run."""
    args = train_parser().parse_args(argv)
    cfg = _load_cfg(args)
    if args.amp:
        opt = cfg.optim_wrapper.get('type', 'OptimWrapper')
        if opt == 'AmpOptimWrapper':
            pass
        elif opt != 'OptimWrapper':
            raise ValueError(f'--amp needs optim_wrapper.type OptimWrapper, got {opt!r}')
        else:
            cfg.optim_wrapper.type = 'AmpOptimWrapper'
            cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    if args.auto_scale_lr:
        if 'auto_scale_lr' not in cfg or 'base_batch_size' not in cfg.auto_scale_lr:
            raise ValueError('--auto-scale-lr needs auto_scale_lr=dict(base_batch_size=...) '
                             f'in {args.config}')
        cfg.auto_scale_lr.enable = True
    cfg['_tensorboard'] = bool(args.tensorboard)
    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        if not osp.isfile(args.resume):
            raise FileNotFoundError(f'--resume checkpoint not found: {args.resume}')
        cfg.resume = True
        cfg.load_from = args.resume
    return cfg


def build_test_cfg(argv: Optional[Sequence[str]] = None):
    """Parse tools/test.py arguments and return (Config, output path or None)."""
    args = test_parser().parse_args(argv)
    cfg = _load_cfg(args)
    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f'checkpoint not found: {args.checkpoint}')
    check_not_a_run(cfg.work_dir)
    cfg.load_from = args.checkpoint
    return cfg, args.out


def run_train(argv: Optional[List[str]] = None):
    """Entry point of tools/train.py; returns the trained model."""
    from .train import train
    return train(build_train_cfg(argv)).model


def _jsonable(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return str(value)


def run_test(argv: Optional[List[str]] = None) -> dict:
    """Entry point of tools/test.py; returns the metrics dict (and writes it with --out)."""
    import json

    from .fileio import atomic_write
    from .train import make_runner
    cfg, out = build_test_cfg(argv)
    partial = cfg.pop('_partial_load', False)
    runner = make_runner(cfg)
    if not partial:
        check_checkpoint_fits(runner.model, cfg.load_from)
    metrics = runner.test()
    if out:
        atomic_write(out, json.dumps({k: _jsonable(v) for k, v in metrics.items()}, indent=2))
    return metrics


def main(argv: Optional[List[str]] = None) -> int:
    """``python -m mmssl_us.launch {train,test} ARGS``, ARGS as for tools/train.py or test.py."""
    argv = list(sys.argv[1:] if argv is None else argv)
    commands = dict(train=run_train, test=run_test)
    if not argv or argv[0] not in commands:
        print(f'usage: python -m mmssl_us.launch {{train,test}} ... (got {argv[:1]})',
              file=sys.stderr)
        return 2
    commands[argv[0]](argv[1:])
    return 0


if __name__ == '__main__':
    from .cli import run_main
    sys.exit(run_main(main))
