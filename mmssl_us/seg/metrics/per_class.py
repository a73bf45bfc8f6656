"""mmseg's ``IoUMetric`` with the per-class figures in its returned metrics.

mmseg logs the per-class IoU table but returns only the means (``mIoU``, ``mDice`` ...), so a
class that is never predicted hides inside a mean. ``PerClassIoUMetric`` returns, next to the
means, ``IoU.<class>`` and ``Dice.<class>`` (percent; NaN where the class occurs in neither
prediction nor ground truth) and ``Pred.<class>`` (the share of evaluated pixels predicted as
that class, percent). The study records them per run; its "degenerate runs" gate reads them.
"""
from typing import Dict

import numpy as np
from mmseg.evaluation.metrics import IoUMetric
from mmseg.registry import METRICS

__all__ = ['PerClassIoUMetric']


@METRICS.register_module()
class PerClassIoUMetric(IoUMetric):
    """``IoUMetric`` (same arguments) whose results also hold the per-class figures."""

    def compute_metrics(self, results: list) -> Dict[str, float]:
        metrics = dict(super().compute_metrics(results))
        if not results:
            return metrics
        inter, union, pred, label = (sum(r[i] for r in results) for i in range(4))
        inter, union, pred, label = (np.asarray(x, dtype=np.float64)
                                     for x in (inter, union, pred, label))
        names = self.dataset_meta['classes']
        with np.errstate(divide='ignore', invalid='ignore'):
            iou = inter / union
            dice = 2 * inter / (pred + label)
        share = pred / max(pred.sum(), 1.0)
        for k, name in enumerate(names):
            metrics[f'IoU.{name}'] = round(float(iou[k]) * 100, 2)
            metrics[f'Dice.{name}'] = round(float(dice[k]) * 100, 2)
            metrics[f'Pred.{name}'] = round(float(share[k]) * 100, 3)
        return metrics
