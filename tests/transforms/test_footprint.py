import glob
import math
import os.path as osp

import cv2
import numpy as np
import pytest

from mmssl_us.transforms import draw_footprint, estimate_sector_mask, fit_footprint, fit_sector
from mmssl_us.transforms.footprint import foreground
from mmssl_us.transforms.geometry import sector_mask
from .conftest import textured

SHAPE = (270, 400)
HC18 = '/work/shared/data/hc18/training_set'


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    return (a & b).sum() / (a | b).sum()


def test_drawn_footprints_have_their_geometry():
    h, w = SHAPE
    lin = draw_footprint('linear', SHAPE)
    rows, cols = np.nonzero(lin)
    assert lin.sum() == (np.ptp(rows) + 1) * (np.ptp(cols) + 1)  # a filled rectangle
    ph = draw_footprint('phased', SHAPE)
    assert ph[0, w // 2] and ph[0].sum() <= 1  # narrow apex on the top row
    cv = draw_footprint('convex', SHAPE)
    assert not cv[:, w // 2][:round(0.05 * h) - 1].any()  # concave probe face below the top
    assert cv[round(0.05 * h) + 1, w // 2]
    # Convex: annular sector of half angle 25 degrees about an apex above the image.
    apex = (w / 2, -0.6 * h)
    ys, xs = np.nonzero(cv)
    theta = np.degrees(np.arctan2(xs - apex[0], ys - apex[1]))
    assert np.abs(theta).max() <= 25.0 + 1e-9 and np.abs(theta).max() > 24.5
    with pytest.raises(ValueError, match='trapezoid'):
        draw_footprint('trapezoid', SHAPE)


@pytest.mark.parametrize('kind', ['linear', 'convex', 'phased'])
def test_estimate_recovers_a_synthetic_footprint(kind):
    truth = draw_footprint(kind, SHAPE)
    img = textured(truth, seed=3)
    assert (img[truth] == 0).mean() > 0.02  # dark fluid inside, also on the border
    mask = estimate_sector_mask(img)
    assert _iou(mask, truth) > 0.98  # less the border notch (0.7 %), plus the hull's rim
    # Never more than the drawn footprint, up to the rasterised hull grazing its border.
    assert not (mask & ~cv2.dilate(truth.astype(np.uint8), np.ones((3, 3)))).any()
    assert (mask & ~truth).sum() < 0.01 * truth.sum()
    ys, xs = np.nonzero(truth)
    assert mask[int(ys.mean()), int(xs.mean())]  # the dark cyst inside is kept
    assert not mask[ys.max(), int(xs.mean())]  # the dark notch open to the border is not
    rgb = estimate_sector_mask(np.dstack([img] * 3))
    np.testing.assert_array_equal(rgb, mask)


@pytest.mark.parametrize('kind', ['convex', 'phased'])
def test_fit_sector_recovers_the_drawn_parameters(kind):
    h, w = SHAPE
    truth = draw_footprint(kind, SHAPE)
    (ax, ay), (left, right), (r_in, r_out) = fit_sector(estimate_sector_mask(textured(truth)),
                                                        kind)
    exp_ay, half, exp_in, exp_out = ((-0.6 * h, 25, 0.65 * h, 1.55 * h) if kind == 'convex'
                                     else (0.0, 40, 0.0, 0.97 * h))
    assert ax == pytest.approx(w / 2, abs=1.0) and ay == pytest.approx(exp_ay, abs=2.0)
    assert math.degrees(-left) == pytest.approx(half, abs=0.3)
    assert math.degrees(right) == pytest.approx(half, abs=0.3)
    assert r_in == pytest.approx(exp_in, abs=2.0) and r_out == pytest.approx(exp_out, abs=2.0)
    estimate = estimate_sector_mask(textured(truth))
    model = fit_footprint(estimate, kind)
    assert _iou(model, truth) > 0.99
    with pytest.raises(ValueError, match='IoU'):  # the overlap guard
        fit_footprint(estimate, kind, min_iou=0.999)


def test_fit_rejects_a_rectangle_and_linear_returns_the_box():
    truth = draw_footprint('linear', SHAPE)
    with pytest.raises(ValueError, match='side edges'):
        fit_sector(truth, 'convex')
    ragged = truth.copy()
    ragged[100:120, 40:60] = False  # a hole does not change the fitted box
    ragged[0:30, 330:340] = True  # nor does a thin bar sticking out above it
    np.testing.assert_array_equal(fit_footprint(ragged, 'linear'), truth)


@pytest.mark.parametrize('channels', [0, 1, 3, 4])
@pytest.mark.parametrize('threshold', [0, 10])
def test_foreground_is_any_channel_above_threshold(channels, threshold):
    rng = np.random.default_rng(channels)
    shape = (37, 53) + ((channels, ) if channels else ())
    img = (rng.integers(0, 14, shape) * (rng.random(shape) < 0.2)).astype(np.uint8)
    expected = (img if img.ndim == 2 else img.max(axis=2)) > threshold
    np.testing.assert_array_equal(foreground(img, threshold) > 0, expected)


def test_black_image_is_an_error():
    with pytest.raises(ValueError, match='threshold=0'):
        estimate_sector_mask(np.zeros((20, 30), np.uint8))


def test_sector_mask_uses_pixel_centres():
    m = sector_mask((5, 5), (2.0, -10.0), (-1.0, 1.0), (10.0, 12.0))
    assert m[0].all() and m[2, 2] and not m[2, 0]  # r = 10 .. 10.2 and 12 kept, 12.2 not
    assert not m[3].any()


def test_real_frames_footprint_excludes_the_black_surround():
    files = sorted(glob.glob(osp.join(HC18, '*_HC.png')))[:12]
    if not files:
        pytest.skip(f'{HC18} is absent')
    for f in files:
        img = cv2.imread(f, cv2.IMREAD_GRAYSCALE)
        mask = estimate_sector_mask(img)
        # Black pixels reachable from the image corners through black: the surround.
        surround = np.zeros((img.shape[0] + 2, img.shape[1] + 2), np.uint8)
        black = (img == 0).astype(np.uint8)
        for y, x in [(0, 0), (0, img.shape[1] - 1), (img.shape[0] - 1, 0),
                     (img.shape[0] - 1, img.shape[1] - 1)]:
            if black[y, x]:
                cv2.floodFill(black, surround, (x, y), 2, flags=8)
        outside = black == 2
        assert (mask & outside).sum() <= 0.03 * mask.sum(), f
        assert (img[~mask] > 0).sum() <= 0.01 * (img > 0).sum(), f  # keeps the echoes
