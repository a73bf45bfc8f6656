"""Head circumference error (mm) of predicted fetal head masks, as in the HC18 challenge."""
import math
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log
from mmseg.registry import METRICS

from ...validate import check_int
from .ellipse import mask_circumference

__all__ = ['HeadCircumferenceMetric']


def _label_map(sample: dict, key: str) -> np.ndarray:
    data = sample[key]['data']
    data = data.squeeze().cpu().numpy() if hasattr(data, 'cpu') else np.asarray(data).squeeze()
    return data


@METRICS.register_module()
class HeadCircumferenceMetric(BaseMetric):
    """Mean absolute difference between predicted and reference head circumference (mm).

    For each image an ellipse is fitted (``cv2.fitEllipse``) to the largest contour of the
    predicted head mask and of the ground-truth mask, its circumference is computed with
    Ramanujan's approximation and scaled by the image's pixel size. Predictions with no
    fittable contour are failures: they are counted (``failures``), not silently dropped; the
    mean absolute difference ``mAD_mm`` is over the images that could be fitted.

    The pixel size must reach the metric as a meta key: pack it with
    ``PackSegInputs(meta_keys=(..., 'pixel_size_mm'))`` (see the HC18 dataset config).
    Predictions are compared at the original image size, where mmseg restores them.

    Args:
        head_label (int): Label of the head class. Defaults to 1.
        pixel_size_key (str): Meta key of the pixel size in mm. Defaults to 'pixel_size_mm'.
        collect_device (str): Device for collecting results across ranks. Defaults to 'cpu'.
        prefix (str, optional): Metric name prefix. Defaults to None, meaning 'HC'.
    """
    default_prefix: Optional[str] = 'HC'

    def __init__(self, head_label: int = 1, pixel_size_key: str = 'pixel_size_mm',
                 collect_device: str = 'cpu', prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.head_label = check_int('head_label', head_label, low=0)
        self.pixel_size_key = pixel_size_key

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """Fit both ellipses of each sample; store (image, reference mm, predicted mm | None)."""
        for sample in data_samples:
            name = sample.get('img_path', '<unnamed image>')
            if self.pixel_size_key not in sample:
                raise ValueError(f'no {self.pixel_size_key!r} for {name}: add it to '
                                 "PackSegInputs(meta_keys=...) and use a dataset that sets it")
            pixel = float(sample[self.pixel_size_key])
            gt = _label_map(sample, 'gt_sem_seg') == self.head_label
            pred = _label_map(sample, 'pred_sem_seg') == self.head_label
            ref = mask_circumference(gt, pixel)
            if ref is None:
                raise ValueError(f'no head ellipse can be fitted to the ground truth of {name}')
            self.results.append((name, ref, mask_circumference(pred, pixel)))

    def compute_metrics(self, results: List[tuple]) -> Dict[str, float]:
        """``mAD_mm`` over fitted images, ``failures`` (unfittable predictions) and ``n``."""
        diffs = [abs(pred - ref) for _, ref, pred in results if pred is not None]
        failures = sum(1 for _, _, pred in results if pred is None)
        mad = float(np.mean(diffs)) if diffs else math.nan
        print_log(f'head circumference: mean abs. difference {mad:.2f} mm over {len(diffs)} '
                  f'images, {failures} of {len(results)} predictions without a fittable head',
                  logger='current')
        return dict(mAD_mm=round(mad, 3), failures=failures, n=len(results))
