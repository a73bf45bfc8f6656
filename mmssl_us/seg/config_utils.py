"""Override the size of a segmentation run with ``--cfg-options`` keys.

The crop size lives in two places of a config (the training ``RandomCrop`` and the
pre-processor's padding ``size``), the schedule length in three (loop, poly-lr end, checkpoint
interval) and the backbone depth changes the head widths. :func:`seg_cfg_options` finds them all
in a loaded config and returns the dotted keys to set, for ``Config.merge_from_dict`` or, via
:func:`format_cfg_options`, for ``tools/train.py --cfg-options``.
"""
from typing import Any, Dict, List, Optional

from ..config_utils import format_cfg_options  # noqa: F401  (re-exported)
from ..resnet import DEPTHS, STAGE_CHANNELS
from ..validate import check_choice, check_int, check_int_pair

__all__ = ['seg_cfg_options', 'format_cfg_options']



def _pipeline_keys(cfg, loader: str, transform: str) -> List[str]:
    pipeline = cfg.get(loader, {}).get('dataset', {}).get('pipeline', [])
    return [f'{loader}.dataset.pipeline.{i}' for i, t in enumerate(pipeline)
            if isinstance(t, dict) and t.get('type') == transform]


def seg_cfg_options(cfg, crop_size: Any = None, img_scale: Any = None,
                    max_iters: Optional[int] = None, val_interval: Optional[int] = None,
                    batch_size: Optional[int] = None, depth: Optional[int] = None,
                    head_channels: Optional[int] = None, label_fraction: Optional[float] = None,
                    fraction_seed: Optional[int] = None, seed: Optional[int] = None,
                    num_workers: Optional[int] = None, warmup_iters: Optional[int] = None,
                    eval_batch_size: Optional[int] = None) -> Dict[str, Any]:
    """Dotted config keys that shrink (or grow) a segmentation run; None leaves a setting.

    Args:
        cfg (mmengine.Config): A loaded segmentation config.
        crop_size (int | tuple): Training crop (h, w): sets every ``RandomCrop`` of the training
            pipeline and ``model.data_preprocessor.size``. Defaults to None.
        img_scale (int | tuple): Resize scale of ``RandomResize`` (training) and ``Resize``
            (val/test). Defaults to None.
        max_iters (int): Iterations; also the end of every lr scheduler that ended at the
            config's last iteration (the poly decay; a warm-up that ends earlier is kept).
            Defaults to None.
        val_interval (int): Validation and checkpoint interval (capped at ``max_iters``).
            Defaults to None.
        batch_size (int): Training batch size. Defaults to None.
        depth (int): ResNet depth (18, 34, 50, 101, 152), with the head input widths.
            Defaults to None.
        head_channels (int): Width of the decode and auxiliary heads. Defaults to None.
        label_fraction (float): Training label fraction. Defaults to None.
        fraction_seed (int): Seed of the fraction draw. Defaults to None.
        seed (int): Training seed (``randomness.seed``). Defaults to None.
        num_workers (int): Dataloader workers of all loaders. Defaults to None.
        warmup_iters (int): A linear warm-up (mmengine ``LinearLR`` from 0.1 of the lr) over
            the first iterations, before the config's schedulers, which then begin where it
            ends. Defaults to None (the config's schedule as it is).
        eval_batch_size (int): Batch size of the val and test loaders (whole images: they must
            be of one size after the test pipeline's resize; the metrics do not change).
            Defaults to None.

    Returns:
        dict[str, Any]: Dotted key -> value.
    """
    out: Dict[str, Any] = {}
    if crop_size is not None:
        crop = check_int_pair('crop_size', crop_size)
        keys = _pipeline_keys(cfg, 'train_dataloader', 'RandomCrop')
        if not keys:
            raise ValueError('the training pipeline has no RandomCrop to resize')
        out.update({f'{k}.crop_size': crop for k in keys})
        out['model.data_preprocessor.size'] = crop
    if img_scale is not None:
        scale = check_int_pair('img_scale', img_scale)
        for loader, transform in (('train_dataloader', 'RandomResize'),
                                  ('val_dataloader', 'Resize'), ('test_dataloader', 'Resize')):
            out.update({f'{k}.scale': scale for k in _pipeline_keys(cfg, loader, transform)})
    schedulers = [dict(s) for s in (cfg.get('param_scheduler', []) or [])]
    if isinstance(cfg.get('param_scheduler'), dict):
        schedulers = [dict(cfg.param_scheduler)]
    ended: Dict[str, Any] = {}  # per-scheduler keys (they also pass on a command line)
    if max_iters is not None:
        max_iters = check_int('max_iters', max_iters, low=1)
        old_end = cfg.train_cfg.get('max_iters')
        out['train_cfg.max_iters'] = max_iters
        for i, sched in enumerate(schedulers):
            if 'end' in sched and (sched['end'] == old_end or len(schedulers) == 1):
                sched['end'] = max_iters
                ended[f'param_scheduler.{i}.end'] = max_iters
        val_interval = min(val_interval or cfg.train_cfg.get('val_interval', max_iters),
                           max_iters)
    if warmup_iters is not None:
        total = max_iters or cfg.train_cfg.get('max_iters')
        warmup_iters = check_int('warmup_iters', warmup_iters, low=1,
                                 high=max(1, int(total) - 1) if total else None)
        if any(s.get('type') == 'LinearLR' for s in schedulers):
            raise ValueError('warmup_iters: the config already has a LinearLR warm-up')
        for sched in schedulers:
            sched['begin'] = max(int(sched.get('begin', 0)), warmup_iters)
        # the list grows by one: set as a whole (a study's merge_from_dict, not --cfg-options)
        out['param_scheduler'] = [dict(type='LinearLR', start_factor=0.1, by_epoch=False,
                                       begin=0, end=warmup_iters)] + schedulers
    else:
        out.update(ended)
    if val_interval is not None:
        val_interval = check_int('val_interval', val_interval, low=1)
        out['train_cfg.val_interval'] = val_interval
        out['default_hooks.checkpoint.interval'] = val_interval
    if eval_batch_size is not None:
        eval_batch_size = check_int('eval_batch_size', eval_batch_size, low=1)
        for loader in ('val_dataloader', 'test_dataloader'):
            if cfg.get(loader):
                out[f'{loader}.batch_size'] = eval_batch_size
    if batch_size is not None:
        batch_size = check_int('batch_size', batch_size, low=1)
        out['train_dataloader.batch_size'] = batch_size
    if depth is not None:
        check_choice('depth', depth, list(DEPTHS))
        if 'depth' not in cfg.model.backbone:
            raise ValueError(f'backbone {cfg.model.backbone.type} has no depth to set')
        c4, c3 = STAGE_CHANNELS[depth][3], STAGE_CHANNELS[depth][2]
        out['model.backbone.depth'] = depth
        out['model.decode_head.in_channels'] = c4
        if cfg.model.get('auxiliary_head'):
            out['model.auxiliary_head.in_channels'] = c3
    if head_channels is not None:
        head_channels = check_int('head_channels', head_channels, low=1)
        out['model.decode_head.channels'] = head_channels
        if cfg.model.get('auxiliary_head'):
            out['model.auxiliary_head.channels'] = head_channels
    if label_fraction is not None:
        out['train_dataloader.dataset.label_fraction'] = label_fraction
    if fraction_seed is not None:
        out['train_dataloader.dataset.fraction_seed'] = fraction_seed
    if seed is not None:
        out['randomness.seed'] = seed
    if num_workers is not None:
        num_workers = check_int('num_workers', num_workers, low=0)
        for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
            if cfg.get(loader):
                out[f'{loader}.num_workers'] = num_workers
                out[f'{loader}.persistent_workers'] = num_workers > 0
    return out
