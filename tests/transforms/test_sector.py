import glob
import os.path as osp

import cv2
import mmcv
import numpy as np
import pytest

from mmssl_us.transforms import SectorRandomResizedCrop, draw_footprint, estimate_sector_mask
from .conftest import textured

SHAPE = (135, 200)
HC18 = '/work/shared/data/hc18/training_set'


def _box(t, img, seed):
    """The box ``t`` crops from ``img`` after ``np.random.seed(seed)``."""
    np.random.seed(seed)
    return t.rand_crop_params(t.footprint_mask(img))


@pytest.mark.parametrize('kind', ['linear', 'convex', 'phased'])
@pytest.mark.parametrize('model', [False, True])
def test_crops_never_leave_the_footprint(kind, model):
    truth = draw_footprint(kind, SHAPE)
    flat = np.where(truth, 255, 0).astype(np.uint8)
    speckled = textured(truth, seed=1)
    t = SectorRandomResizedCrop(32, crop_ratio_range=(0.05, 1.0),
                                footprint=kind if model else 'auto')
    sizes = set()
    for seed in range(100):
        np.random.seed(seed)
        out = t(dict(img=flat.copy()))['img']
        assert out.shape == (32, 32) and (out == 255).all()  # no black pixel got in
        for img in (flat, speckled):
            top, left, h, w = _box(t, img, seed)
            assert truth[top:top + h, left:left + w].all(), (seed, top, left, h, w)
            sizes.add((h, w))
    assert len(sizes) > 50  # the scale and aspect are really random


def test_box_is_the_one_cropped_and_seg_maps_follow():
    truth = draw_footprint('convex', SHAPE)
    img = np.dstack([textured(truth, seed=2)] * 3)
    seg = ((np.arange(SHAPE[0])[:, None] // 9) * 7 + np.arange(SHAPE[1])[None] // 11) % 200
    seg = seg.astype(np.uint8)
    t = SectorRandomResizedCrop((40, 56), crop_ratio_range=(0.1, 0.6))
    for seed in range(5):
        np.random.seed(seed)
        res = t(dict(img=img.copy(), gt_seg_map=seg.copy(), aux=seg.copy(),
                     seg_fields=['aux']))
        top, left, h, w = _box(t, img, seed)
        ref = mmcv.imresize(img[top:top + h, left:left + w], (56, 40))
        np.testing.assert_array_equal(res['img'], ref)
        ref_seg = mmcv.imresize(seg[top:top + h, left:left + w], (56, 40),
                                interpolation='nearest')
        np.testing.assert_array_equal(res['gt_seg_map'], ref_seg)
        np.testing.assert_array_equal(res['aux'], ref_seg)
        assert res['img_shape'] == (40, 56)


def test_fallback_is_the_largest_square_inside():
    truth = draw_footprint('phased', (60, 80))
    img = np.where(truth, 200, 0).astype(np.uint8)
    t = SectorRandomResizedCrop(16, crop_ratio_range=(1.0, 1.0), aspect_ratio_range=(1, 1))
    top, left, h, w = _box(t, img, 0)
    mask = t.footprint_mask(img)
    assert h == w and mask[top:top + h, left:left + w].all()
    ii = cv2.integral(mask)
    side = h + 2  # the next odd side fits nowhere (brute force over all positions)
    sums = ii[side:, side:] - ii[:-side, side:] - ii[side:, :-side] + ii[:-side, :-side]
    assert sums.max() < side * side


def test_min_inside_allows_partly_outside_boxes():
    truth = draw_footprint('phased', SHAPE)
    img = np.where(truth, 200, 0).astype(np.uint8)
    t = SectorRandomResizedCrop(16, crop_ratio_range=(0.2, 0.5), min_inside=0.8)
    fractions = []
    for seed in range(60):
        top, left, h, w = _box(t, img, seed)
        fractions.append(t.footprint_mask(img)[top:top + h, left:left + w].mean())
    assert min(fractions) >= 0.8 - 1e-9 and min(fractions) < 0.95


def test_errors_name_the_bad_value_or_file():
    with pytest.raises(ValueError, match='blank.png'):
        SectorRandomResizedCrop(8)(dict(img=np.zeros((20, 20), np.uint8), img_path='blank.png'))
    with pytest.raises(ValueError, match='hexagon'):
        SectorRandomResizedCrop(8, footprint='hexagon')
    with pytest.raises(ValueError, match='got 0'):
        SectorRandomResizedCrop(0)
    with pytest.raises(ValueError, match='1.5'):
        SectorRandomResizedCrop(8, min_inside=1.5)
    with pytest.raises(ValueError, match='cubic'):
        SectorRandomResizedCrop(8, interpolation='cubic')


def test_linear_model_falls_back_to_the_estimate_with_a_warning():
    truth = draw_footprint('linear', SHAPE)
    img = np.where(truth, 200, 0).astype(np.uint8)
    t = SectorRandomResizedCrop(16, footprint='convex')
    np.testing.assert_array_equal(t.footprint_mask(img).astype(bool),
                                  cv2.erode(truth.astype(np.uint8), np.ones((3, 3))) > 0)
    assert t._warned


def test_a_frame_the_sector_model_does_not_fit_uses_the_estimate():
    truth = draw_footprint('phased', SHAPE)
    truth[:60, :70] = True  # a large bright overlay joined to the fan (say, a text box)
    img = np.where(truth, 200, 0).astype(np.uint8)
    t = SectorRandomResizedCrop(16, footprint='phased')
    estimate = cv2.erode(estimate_sector_mask(img).astype(np.uint8), np.ones((3, 3)),
                         borderType=cv2.BORDER_CONSTANT, borderValue=0)
    np.testing.assert_array_equal(t.footprint_mask(img), estimate)
    assert t._warned


def test_real_frames_crops_stay_off_the_black_surround():
    files = sorted(glob.glob(osp.join(HC18, '*_HC.png')))[:8]
    if not files:
        pytest.skip(f'{HC18} is absent')
    t = SectorRandomResizedCrop(224, crop_ratio_range=(0.2, 1.0))
    for i, f in enumerate(files):
        img = cv2.imread(f, cv2.IMREAD_COLOR)
        black = (img.max(axis=2) == 0).astype(np.uint8)
        n, labels = cv2.connectedComponents(black, connectivity=8)
        corner_labels = {labels[0, 0], labels[0, -1], labels[-1, 0], labels[-1, -1]} - {0}
        surround = np.isin(labels, list(corner_labels)) & (black > 0)
        for seed in range(10):
            top, left, h, w = _box(t, img, 100 * i + seed)
            assert surround[top:top + h, left:left + w].mean() <= 0.02, (f, seed)
