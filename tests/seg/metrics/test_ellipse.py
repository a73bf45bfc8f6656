"""Ellipse circumference: Ramanujan vs the exact elliptic integral, and mask fitting."""
import math

import cv2
import numpy as np
import pytest
from scipy.special import ellipe

from mmssl_us.seg.metrics.ellipse import (fit_mask_ellipse, mask_circumference,
                                          ramanujan_circumference)


def _exact(a, b):
    a, b = max(a, b), min(a, b)
    return 4 * a * ellipe(1 - (b / a) ** 2)  # scipy's ellipe takes m = e^2


def test_circle_is_exact():
    assert ramanujan_circumference(7.0, 7.0) == pytest.approx(2 * math.pi * 7.0, rel=1e-14)


@pytest.mark.parametrize('a,b,tol', [(100, 90, 1e-9), (100, 60, 1e-6), (100, 20, 1e-3)])
def test_ramanujan_vs_elliptic_integral(a, b, tol):
    assert ramanujan_circumference(a, b) == pytest.approx(_exact(a, b), rel=tol)


def test_bad_axes():
    with pytest.raises(ValueError, match='-1'):
        ramanujan_circumference(-1, 2)


@pytest.mark.parametrize('axes,angle', [((150, 110), 0), ((150, 110), 37), ((60, 45), 80),
                                        ((20, 12), 15)])
def test_mask_circumference_of_drawn_ellipse(axes, angle):
    mask = np.zeros((400, 500), np.uint8)
    cv2.ellipse(mask, (250, 200), axes, angle, 0, 360, 1, -1)
    fit = fit_mask_ellipse(mask)
    (cx, cy), (w, h), _ = fit
    assert (cx, cy) == (pytest.approx(250, abs=0.5), pytest.approx(200, abs=0.5))
    assert sorted((w / 2, h / 2)) == [pytest.approx(min(axes), abs=0.6),
                                      pytest.approx(max(axes), abs=0.6)]
    expected = _exact(*axes) * 0.07
    assert mask_circumference(mask, 0.07) == pytest.approx(expected, rel=5e-3)


def test_no_ellipse_for_empty_or_tiny_masks():
    mask = np.zeros((50, 50), np.uint8)
    assert fit_mask_ellipse(mask) is None and mask_circumference(mask) is None
    mask[10, 10:12] = 1  # a 2-pixel contour: fewer than 5 points
    assert mask_circumference(mask) is None


def test_largest_component_is_used():
    mask = np.zeros((300, 300), np.uint8)
    cv2.ellipse(mask, (150, 150), (100, 70), 0, 0, 360, 1, -1)
    cv2.circle(mask, (20, 20), 8, 1, -1)  # a speck far away
    assert mask_circumference(mask) == pytest.approx(_exact(100, 70), rel=5e-3)
