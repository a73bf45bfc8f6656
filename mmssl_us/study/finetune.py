"""One fine-tuning run of the study, in this process: the study's fine-tuning config, shrunk
and pointed at the data, from a backbone (or random init), trained on one label fraction with
one seed, then evaluated once on the test split. The validation curve is kept for the report.
mmengine and mmseg are imported lazily."""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Dict, List, Optional

from mmengine.hooks import Hook

__all__ = ['RunKey', 'CurveHook', 'finetune_options', 'class_options', 'finetune_once']


@dataclass(frozen=True)
class RunKey:
    init: str
    fraction: float
    seed: int

    @property
    def name(self) -> str:
        return f'{self.init}/frac{self.fraction:g}_seed{self.seed}'


class CurveHook(Hook):
    """Collects (iteration, val mIoU) after every validation of a fine-tuning run."""

    priority = 'LOW'

    def __init__(self) -> None:
        self.curve: List[List[float]] = []

    def after_val_epoch(self, runner, metrics: Optional[Dict[str, float]] = None) -> None:
        if metrics and 'mIoU' in metrics:
            self.curve.append([int(runner.iter), float(metrics['mIoU'])])


def finetune_options(cfg, spec: Dict, data_root: str) -> Dict:
    """The fine-tuning config's overrides common to every run: the study's shrink settings
    (mmssl_us.seg.config_utils.seg_cfg_options), a folder study's classes
    (:func:`class_options`), its cfg_options, and the data root."""
    from mmssl_us.seg.config_utils import seg_cfg_options
    options = seg_cfg_options(cfg, **(spec.get('shrink') or {}))
    if spec.get('classes'):
        options.update(class_options(cfg, spec['classes'], spec.get('img_suffix')))
    options.update(spec.get('cfg_options') or {})
    options['data_root'] = data_root
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        options[f'{loader}.dataset.data_root'] = data_root
    return options


def class_options(cfg, classes, img_suffix: Optional[str] = None) -> Dict:
    """Overrides that make a segmentation config learn ``classes`` (a folder study's): the
    datasets' ``metainfo`` (and image suffix), the decode and auxiliary heads' widths."""
    classes = tuple(classes)
    options: Dict = {}
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        if cfg.get(loader) is None:
            continue
        options[f'{loader}.dataset.metainfo'] = dict(classes=classes)
        if img_suffix:
            options[f'{loader}.dataset.img_suffix'] = img_suffix
    heads = cfg.model.get('auxiliary_head')
    heads = heads if isinstance(heads, list) else [heads] if heads else []
    options['model.decode_head.num_classes'] = len(classes)
    if isinstance(cfg.model.get('auxiliary_head'), list):
        for i in range(len(heads)):
            options[f'model.auxiliary_head.{i}.num_classes'] = len(classes)
    elif heads:
        options['model.auxiliary_head.num_classes'] = len(classes)
    return options


def finetune_once(key: RunKey, spec: Dict, backbone: Optional[str], run_dir: str,
                  data_root: str) -> Dict:
    """Train one fine-tuning run in this process and evaluate it on the test split."""
    from mmengine.config import Config
    from mmengine.runner import Runner

    import mmssl_us.seg  # noqa: F401  (registers datasets, metrics, VerifiedPretrained)
    cfg = Config.fromfile(spec['config'])
    options = finetune_options(cfg, spec, data_root)
    options.update({
        'train_dataloader.dataset.label_fraction': key.fraction,
        'train_dataloader.dataset.fraction_seed': key.seed,
        'randomness.seed': key.seed,
        'work_dir': run_dir,
        'experiment_name': key.name.replace('/', '_'),
    })
    if backbone is None:
        options['model.backbone.init_cfg'] = None
        options['model.pretrained'] = None
    else:
        options['model.backbone.init_cfg'] = dict(type='VerifiedPretrained', checkpoint=backbone)
    cfg.merge_from_dict(options)
    runner = Runner.from_cfg(cfg)
    curve = CurveHook()
    runner.register_hook(curve, priority='LOW')
    t0 = time.time()
    runner.train()
    metrics = runner.test()
    row = dict(init=key.init, fraction=key.fraction, seed=key.seed,
               curve=json.dumps(curve.curve), work_dir=run_dir,
               seconds=round(time.time() - t0, 1))
    for k, v in metrics.items():
        try:
            row[k] = float(v)
        except (TypeError, ValueError):
            continue
    return row
