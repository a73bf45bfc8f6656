"""One fine-tuning run of the study, in this process: the study's fine-tuning config, shrunk
and pointed at the data, from a backbone (or random init), trained on one label fraction with
one seed; the checkpoint that scored best on the validation split (mmengine's
``CheckpointHook(save_best='mIoU')``) is evaluated once on the test split, never the last
iterate. The validation curve is kept for the report.
mmengine is imported at module level (its ``Hook`` base); mmseg (through
:mod:`mmssl_us.seg`) inside the functions that run a fine-tuning."""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

from mmengine.hooks import Hook

__all__ = ['RunKey', 'CurveHook', 'PhaseTimer', 'finetune_options', 'class_options',
           'selection_options', 'best_checkpoint', 'finetune_config', 'finetune_once']


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
    from ..seg.config_utils import seg_cfg_options
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


class PhaseTimer(Hook):
    """Wall-clock seconds a run spends training, validating and testing (for the per-run
    time split of ``benchmarks/bench_study_run.py`` and the ``seconds_*`` columns)."""

    priority = 'VERY_HIGH'

    def __init__(self) -> None:
        self.seconds = dict(train=0.0, val=0.0, test=0.0)
        self._t: Dict[str, float] = {}

    def _start(self, phase: str) -> None:
        self._t[phase] = time.perf_counter()

    def _stop(self, phase: str) -> None:
        if phase in self._t:
            self.seconds[phase] += time.perf_counter() - self._t.pop(phase)

    def before_train(self, runner) -> None:
        self._start('train')

    def after_train(self, runner) -> None:
        self._stop('train')

    def before_val_epoch(self, runner) -> None:
        self._start('val')

    def after_val_epoch(self, runner, metrics=None) -> None:
        self._stop('val')

    def before_test_epoch(self, runner) -> None:
        self._start('test')

    def after_test_epoch(self, runner, metrics=None) -> None:
        self._stop('test')


def selection_options(metric: str = 'mIoU') -> Dict:
    """Checkpoint options of every study run: mmengine's ``CheckpointHook`` keeps the best
    validation checkpoint (``save_best``), and only one periodic checkpoint;
    ``PlainCheckpointHook`` (:mod:`mmssl_us.engine`) writes each of them as plain data, so the
    best checkpoint loads with ``torch.load(weights_only=True)`` without the allow-list."""
    return {'default_hooks.checkpoint.save_best': metric,
            'default_hooks.checkpoint.rule': 'greater',
            'default_hooks.checkpoint.max_keep_ckpts': 1,
            'default_hooks.plain_checkpoint.type': 'PlainCheckpointHook'}


def best_checkpoint(runner, curve: List[List[float]]) -> Tuple[str, int, float]:
    """The best-val checkpoint that ``CheckpointHook(save_best=...)`` wrote, its iteration and
    its val mIoU.

    Raises:
        RuntimeError: no validation ran (nothing to select on), or the file the hook recorded is
            missing, or its iteration is not the best point of the validation curve.
    """
    import os.path as osp
    import re
    path = runner.message_hub.get_info('best_ckpt')
    if not curve or not path:
        raise RuntimeError(f'{runner.work_dir}: no validation ran during training, so no '
                           'checkpoint can be selected on val: set a val_interval at most '
                           'max_iters')
    if not osp.isfile(path):
        raise RuntimeError(f'the best-val checkpoint {path} is missing')
    match = re.search(r'iter_(\d+)\.pth$', path)
    best = max(curve, key=lambda p: p[1])  # first maximum, as CheckpointHook's strict '>'
    if match is None or int(match.group(1)) != int(best[0]):
        raise RuntimeError(f'the best-val checkpoint {path} is not the best point of the '
                           f'validation curve (iteration {int(best[0])}, mIoU {best[1]:.2f})')
    return path, int(best[0]), float(best[1])


def per_class_evaluator(evaluator):
    """The evaluator config with every mmseg ``IoUMetric`` as :class:`PerClassIoUMetric` (same
    settings; it also returns ``IoU.<class>``, ``Dice.<class>`` and ``Pred.<class>``)."""
    if isinstance(evaluator, (list, tuple)):
        return [per_class_evaluator(e) for e in evaluator]
    if evaluator.get('type') in ('IoUMetric', 'mmseg.IoUMetric'):
        return dict(evaluator, type='PerClassIoUMetric')
    return evaluator


def finetune_config(key: RunKey, spec: Dict, backbone: Optional[str], run_dir: str,
                    data_root: str):
    """The config of one fine-tuning run: the study's fine-tuning config with
    :func:`finetune_options`, :func:`selection_options`, the run's fraction, seed and work dir,
    and the study's init in place of the config's own.

    The study's init replaces whatever the config names: ``backbone`` (a converted backbone
    file) is loaded with ``VerifiedPretrained``, None leaves the backbone random; either way a
    ``pretrained=`` of the config (an ``-imagenet_`` config's ``open-mmlab://resnet50_v1c``) is
    cleared, which mmseg's segmentors refuse beside a backbone ``init_cfg``."""
    from mmengine.config import Config
    cfg = Config.fromfile(spec['config'])
    options = finetune_options(cfg, spec, data_root)
    options.update(selection_options())
    options.update({
        'train_dataloader.dataset.label_fraction': key.fraction,
        'train_dataloader.dataset.fraction_seed': key.seed,
        'randomness.seed': key.seed,
        'work_dir': run_dir,
        'experiment_name': key.name.replace('/', '_'),
        'model.pretrained': None,
        'model.backbone.init_cfg': (None if backbone is None else
                                    dict(type='VerifiedPretrained', checkpoint=backbone)),
    })
    if backbone is not None:
        from ..transfer.init import pretrained_init_cfg
        # a UNet encoder file leaves the decoder to the fine-tuning (meta['allowed_missing'])
        options['model.backbone.init_cfg'] = pretrained_init_cfg(backbone)
    cfg.merge_from_dict(options)
    # the test's per-class IoU (the "degenerate runs" gate): mmseg's IoUMetric returns means only
    cfg.test_evaluator = per_class_evaluator(cfg.test_evaluator)
    return cfg


def finetune_once(key: RunKey, spec: Dict, backbone: Optional[str], run_dir: str,
                  data_root: str) -> Dict:
    """Train one fine-tuning run in this process, select the checkpoint that validated best
    and evaluate that one once on the test split.

    The run trains through the package's one driver (:func:`mmssl_us.train.build_runner`:
    strict ``Pretrained`` loads, stale temporaries, the work dir's claim, TensorBoard with
    ``MMSSL_US_TENSORBOARD=1``). The row records the selected iteration (``best_iter``), its
    val mIoU (``best_val``), the last val mIoU (``last_val``), the labelled subset's size and the
    time of each phase."""
    from .. import seg  # noqa: F401  (registers datasets, metrics, VerifiedPretrained)
    from ..train import build_runner
    t_build = time.perf_counter()
    cfg = finetune_config(key, spec, backbone, run_dir, data_root)
    curve = CurveHook()
    timer = PhaseTimer()
    runner = build_runner(cfg, hooks=((curve, 'LOW'), (timer, 'VERY_HIGH')))
    build_s = time.perf_counter() - t_build
    t0 = time.time()
    runner.train()
    path, best_iter, best_val = best_checkpoint(runner, curve.curve)
    runner.load_checkpoint(path)  # the safe loader (mmssl_us.checkpoint): weights only
    metrics = runner.test()
    train_set = runner.train_dataloader.dataset
    row = dict(init=key.init, fraction=key.fraction, seed=key.seed,
               best_iter=best_iter, best_val=best_val,
               last_val=curve.curve[-1][1], max_iters=int(runner.max_iters),
               train_images=len(train_set),
               train_patients=(getattr(train_set, 'fraction_record', None)
                               or {}).get('n_patients'),
               curve=json.dumps(curve.curve), work_dir=run_dir,
               seconds=round(time.time() - t0, 1), seconds_build=round(build_s, 2),
               seconds_train=round(timer.seconds['train'] - timer.seconds['val'], 2),
               seconds_val=round(timer.seconds['val'], 2),
               seconds_test=round(timer.seconds['test'], 2))
    for k, v in metrics.items():
        try:
            row[k] = float(v)
        except (TypeError, ValueError):
            continue
    return row
