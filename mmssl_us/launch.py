"""What tools/train.py and tools/test.py do, kept here so that it is tested.

``python -m mmssl_us.launch train|test ARGS`` runs the same without the repository's tools/ (the
study runner starts pretraining so, torchrun each evaluation process of tools/dist_test.py).
The tools parse arguments; these functions turn them into an mmengine config and run it. They
work for pretraining (mmpretrain scope) and segmentation (mmseg scope) configs alike: the config's
own ``default_scope`` and ``custom_imports`` decide which host is loaded.
"""
from __future__ import annotations

import argparse
import os
import os.path as osp
import sys
from typing import Any, Dict, List, Optional, Sequence

from mmssl_us.validate import did_you_mean
from mmssl_us.workdir import check_not_a_run, claim_work_dir, default_work_dir

__all__ = ['train_parser', 'test_parser', 'build_train_cfg', 'build_test_cfg', 'run_train',
           'run_test', 'format_cfg_options', 'main']


def _format_value(value: Any) -> str:
    if isinstance(value, tuple):
        return '(' + ','.join(_format_value(v) for v in value) + (',)' if len(value) == 1 else ')')
    if isinstance(value, list):
        return '[' + ','.join(_format_value(v) for v in value) + ']'
    return str(value)


def format_cfg_options(options: Dict[str, Any]) -> List[str]:
    """``key=value`` strings that mmengine's ``DictAction`` (``--cfg-options``) parses back to
    the same values, tuples and lists included."""
    return [f'{key}={_format_value(value)}' for key, value in options.items()]


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


#: top-level keys mmengine's Runner.from_cfg reads even when a config leaves them out
RUNNER_KEYS = frozenset((
    'model', 'work_dir', 'train_dataloader', 'val_dataloader', 'test_dataloader', 'train_cfg',
    'val_cfg', 'test_cfg', 'auto_scale_lr', 'optim_wrapper', 'param_scheduler',
    'val_evaluator', 'test_evaluator', 'default_hooks', 'custom_hooks', 'data_preprocessor',
    'load_from', 'resume', 'launcher', 'env_cfg', 'log_processor', 'log_level', 'visualizer',
    'default_scope', 'randomness', 'experiment_name', 'custom_imports'))


def check_cfg_options(cfg, options: Dict[str, Any], source: str = '--cfg-options') -> None:
    """Refuse an override whose top-level key neither the config nor mmengine's runner knows
    (a typo such as ``modle.backbone.depth`` would otherwise be ignored in silence)."""
    known = set(cfg.keys()) | RUNNER_KEYS
    for key in options:
        top = key.split('.', 1)[0]
        if top not in known:
            raise ValueError(f'{source}: {key!r}: the config has no top-level key {top!r}' +
                             did_you_mean(top, known))


def _load_cfg(args: argparse.Namespace):
    from mmengine.config import Config

    from mmssl_us.checkpoint import install
    install()
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


def _prepare_cpu_distributed(cfg) -> None:
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
    if cfg.launcher != 'pytorch' or torch.cuda.is_available():
        return
    from mmssl_us.distributed import register_cpu_ddp
    if not dist.is_initialized():
        dist.init_process_group(backend='gloo')
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


def _runner(cfg):
    from mmengine.registry import RUNNERS
    from mmengine.runner import Runner
    _prepare_cpu_distributed(cfg)
    if 'runner_type' in cfg:
        return RUNNERS.build(cfg)
    return Runner.from_cfg(cfg)


def check_checkpoint_fits(model, path: str) -> None:
    """Stop when the checkpoint that ``load_from`` / testing would load does not fit the model
    (mmengine loads with ``strict=False`` and only warns: a backbone-only file or another
    model's checkpoint would then be evaluated or trained from random weights in silence)."""
    from mmengine.model import is_model_wrapper

    from mmssl_us.checkpoint import safe_load
    from mmssl_us.transfer.keys import compare_keys, unwrap_state_dict
    model = model.module if is_model_wrapper(model) else model
    report = compare_keys(model.state_dict(), unwrap_state_dict(safe_load(path,
                                                                           map_location='cpu')))
    if not report.ok:
        raise ValueError(f'{path} does not fit the model of this config: {report.message()}. '
                         'Pass --partial-load to load what fits anyway (the rest stays as '
                         'initialised).')


def check_epoch_not_empty(runner) -> None:
    """Stop when the training data gives no batch at all (a pool smaller than one batch with
    ``drop_last``): mmengine would fail later with an ``epoch_length`` of 0."""
    loader = runner.train_loop.dataloader  # builds the loop (kept for train())
    if len(loader) == 0:
        n = len(loader.dataset)
        raise ValueError(f'the training data gives no batch: {n} sample(s) and a batch size of '
                         f'{loader.batch_size} with drop_last={loader.drop_last}. Add images to '
                         'the pool or lower train_dataloader.batch_size')


def run_train(argv: Optional[List[str]] = None):
    """Entry point of tools/train.py; returns the trained model."""
    return train_from_cfg(build_train_cfg(argv))


#: checkpoint keys a backbone may leave unused: the classifier of an ImageNet checkpoint
CLASSIFIER_KEYS = ('fc.*', 'head.*', 'classifier.*')
#: models whose ``pretrained=PATH`` is the backbone's checkpoint (mmseg's segmentors)
_BACKBONE_PRETRAINED = ('EncoderDecoder', )


def _verified(spec: Dict[str, Any]) -> Dict[str, Any]:
    out = dict(type='VerifiedPretrained', checkpoint=spec['checkpoint'],
               allowed_unexpected=list(CLASSIFIER_KEYS))
    for key in ('prefix', 'map_location'):
        if spec.get(key) is not None:
            out[key] = spec[key]
    return out


def strict_pretrained_inits(model_cfg) -> List[str]:
    """Make every ``init_cfg=dict(type='Pretrained', ...)`` (and a segmentor's or detector's
    ``pretrained=PATH``) in ``model_cfg`` a ``VerifiedPretrained`` init, in place.

    mmengine's ``Pretrained`` loads with ``strict=False`` and only logs what did not fit, so a
    checkpoint named for another library trains from random weights in silence.
    ``VerifiedPretrained`` (:mod:`mmssl_us.transfer.init`) stops with the counts and the first
    missing and unexpected keys; a classifier's keys (:data:`CLASSIFIER_KEYS`) may be left over.

    Returns:
        list[str]: Where a Pretrained init was replaced (dotted config paths).
    """
    changed: List[str] = []

    def visit(node: Any, where: str) -> None:
        if isinstance(node, dict):
            if (isinstance(node.get('pretrained'), str) and isinstance(node.get('backbone'), dict)
                    and str(node.get('type', '')).endswith(_BACKBONE_PRETRAINED)):
                node['backbone']['init_cfg'] = _verified(dict(checkpoint=node['pretrained']))
                node['pretrained'] = None
                changed.append(f'{where}.pretrained')
            init = node.get('init_cfg')
            if isinstance(init, dict) and init.get('type') == 'Pretrained':
                node['init_cfg'] = _verified(init)
                changed.append(f'{where}.init_cfg')
            elif isinstance(init, list):
                for i, item in enumerate(init):
                    if isinstance(item, dict) and item.get('type') == 'Pretrained':
                        init[i] = _verified(item)
                        changed.append(f'{where}.init_cfg.{i}')
            for key, value in node.items():
                if key != 'init_cfg':
                    visit(value, f'{where}.{key}')
        elif isinstance(node, (list, tuple)):
            for i, item in enumerate(node):
                visit(item, f'{where}.{i}')

    visit(model_cfg, 'model')
    return changed


def train_from_cfg(cfg):
    """Check what would otherwise fail late or in silence, then train ``cfg``."""
    partial = cfg.pop('_partial_load', False)
    from mmssl_us.tensorboard_log import enable_tensorboard, wanted
    if cfg.pop('_tensorboard', False) or wanted():
        enable_tensorboard(cfg)
    if not partial and cfg.get('model') is not None:
        for where in strict_pretrained_inits(cfg.model):
            print(f'{where}: Pretrained is loaded as VerifiedPretrained (stops on a missing or '
                  'unexpected key; --partial-load keeps mmengine\'s lenient load)')
        import mmssl_us.transfer.init  # noqa: F401  (registers VerifiedPretrained)
    if 'launcher' not in cfg:  # a Config built in code rather than by the argument parser
        cfg.launcher = 'none'
    import torch
    if cfg.optim_wrapper.get('type') == 'AmpOptimWrapper' and not torch.cuda.is_available():
        raise ValueError('--amp (AmpOptimWrapper) needs a CUDA GPU and this machine has none: '
                         'run without --amp')
    from mmssl_us.fileio import clean_stale_temporaries
    for path in clean_stale_temporaries(cfg.work_dir):  # left by a run killed mid-write
        print(f'removed a stale temporary file of a killed run: {path}')
    claim_work_dir(cfg, resume=bool(cfg.get('resume')))  # never over another model's files
    runner = _runner(cfg)
    if cfg.get('load_from') and not cfg.get('resume') and not partial:
        check_checkpoint_fits(runner.model, cfg.load_from)
    check_epoch_not_empty(runner)
    try:
        return runner.train()
    except (ValueError, RuntimeError) as exc:
        text = str(exc)
        if cfg.get('resume') and ('parameter group' in text or 'size mismatch' in text):
            raise ValueError(
                f'cannot resume in {cfg.work_dir}: its checkpoint was written by a model of '
                f'another shape than this config builds ({text.splitlines()[0]}). Did the depth '
                'or another model setting change? Resume with the config that wrote it, or '
                'train into a new --work-dir') from None
        raise


def _jsonable(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return str(value)


def run_test(argv: Optional[List[str]] = None) -> dict:
    """Entry point of tools/test.py; returns the metrics dict (and writes it with --out)."""
    import json
    cfg, out = build_test_cfg(argv)
    partial = cfg.pop('_partial_load', False)
    runner = _runner(cfg)
    if not partial:
        check_checkpoint_fits(runner.model, cfg.load_from)
    metrics = runner.test()
    if out:
        os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
        with open(out, 'w', encoding='utf-8') as f:
            json.dump({k: _jsonable(v) for k, v in metrics.items()}, f, indent=2)
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
    from mmssl_us.cli import run_main
    sys.exit(run_main(main))
