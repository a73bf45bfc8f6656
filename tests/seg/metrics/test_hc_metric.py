"""HeadCircumferenceMetric on synthetic ellipses and on real HC18 masks."""
import csv
import math
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmseg.registry import METRICS

import mmssl_us.seg  # noqa: F401
from mmssl_us.seg.metrics.ellipse import ramanujan_circumference

from .._helpers import HC18_DIR, hc18_available


def _mask(axes, angle=0, shape=(300, 400)):
    m = np.zeros(shape, np.uint8)
    if axes is not None:
        cv2.ellipse(m, (200, 150), axes, angle, 0, 360, 1, -1)
    return torch.from_numpy(m)[None].long()


def _sample(gt_axes, pred_axes, pixel, name='x.png'):
    return dict(img_path=name, pixel_size_mm=pixel, gt_sem_seg=dict(data=_mask(gt_axes)),
                pred_sem_seg=dict(data=_mask(pred_axes, angle=5)))


def test_mean_absolute_difference_and_failures():
    metric = METRICS.build(dict(type='HeadCircumferenceMetric'))
    metric.dataset_meta = dict(classes=('background', 'fetal head'))
    samples = [_sample((100, 80), (110, 80), 0.1, 'a.png'),
               _sample((120, 90), (115, 90), 0.2, 'b.png'),
               _sample((90, 70), None, 0.1, 'c.png')]  # nothing predicted: a failure
    metric.process({}, samples)
    result = metric.evaluate(3)
    expected = np.mean([abs(ramanujan_circumference(110, 80) - ramanujan_circumference(100, 80))
                        * 0.1,
                        abs(ramanujan_circumference(115, 90) - ramanujan_circumference(120, 90))
                        * 0.2])
    assert result['HC/failures'] == 1 and result['HC/n'] == 3
    # fitting error is below one pixel of axis, i.e. < 2*pi*0.6 px of circumference per mask
    assert result['HC/mAD_mm'] == pytest.approx(expected, abs=2 * math.pi * 0.6 * 0.2)


def test_all_failures_give_nan():
    metric = METRICS.build(dict(type='HeadCircumferenceMetric'))
    metric.process({}, [_sample((100, 80), None, 0.1)])
    result = metric.evaluate(1)
    assert math.isnan(result['HC/mAD_mm']) and result['HC/failures'] == 1


def test_missing_pixel_size_named():
    metric = METRICS.build(dict(type='HeadCircumferenceMetric'))
    sample = _sample((100, 80), (100, 80), 0.1, 'img_042.png')
    del sample['pixel_size_mm']
    with pytest.raises(ValueError, match="no 'pixel_size_mm' for img_042.png"):
        metric.process({}, [sample])


def test_empty_ground_truth_named():
    metric = METRICS.build(dict(type='HeadCircumferenceMetric'))
    with pytest.raises(ValueError, match='ground truth of g.png'):
        metric.process({}, [_sample(None, (100, 80), 0.1, 'g.png')])


def test_bad_head_label():
    with pytest.raises(ValueError, match='-1'):
        METRICS.build(dict(type='HeadCircumferenceMetric', head_label=-1))


def test_real_hc18_masks_match_reference_hc():
    """GT masks of the HC18 copy, scored as perfect predictions, vs the CSV's HC (mm)."""
    if not hc18_available():
        pytest.skip(f'{HC18_DIR} not present')
    with open(osp.join(HC18_DIR, 'training_set_pixel_size_and_HC.csv')) as f:
        rows = list(csv.DictReader(f))[::8]  # 31 of the 248 images
    metric = METRICS.build(dict(type='HeadCircumferenceMetric'))
    diffs = []
    for row in rows:
        stem = osp.splitext(row['filename'])[0]
        ann = cv2.imread(osp.join(HC18_DIR, 'training_set', stem + '_Annotation.png'),
                         cv2.IMREAD_GRAYSCALE)
        label = torch.from_numpy((ann > 127).astype(np.uint8))[None].long()
        metric.results.clear()
        sample = dict(img_path=row['filename'], pixel_size_mm=float(row['pixel size(mm)']),
                      gt_sem_seg=dict(data=label), pred_sem_seg=dict(data=label))
        metric.process({}, [sample])
        _, ref_mm, pred_mm = metric.results[0]
        assert pred_mm == ref_mm
        diffs.append(abs(ref_mm - float(row['head circumference (mm)'])))
    assert max(diffs) < 3.0, max(diffs)  # "within a few mm" of the challenge's HC
