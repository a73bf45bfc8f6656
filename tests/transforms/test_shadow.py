import numpy as np
import pytest

from mmssl_us.transforms import AcousticShadow


def _bar_image() -> np.ndarray:
    img = np.full((80, 100), 100, dtype=np.uint8)
    img[40:45, 20:61] = 250  # a bright reflector, 5 rows deep, columns 20..60
    return img


def test_detected_reflector_shadows_only_below_it_within_its_extent():
    img = _bar_image()
    t = AcousticShadow(reflector='detect', threshold=200, min_area=10, strength=0.5,
                       soft_edge=0.0, prob=1.0)
    out = t(dict(img=img.copy()))['img']
    np.testing.assert_array_equal(out[:45], img[:45])  # above and at the reflector
    assert (out[45:, 20:61] == 50).all()  # closed form: amplitude * (1 - strength)
    np.testing.assert_array_equal(out[45:, :20], img[45:, :20])  # lateral outside
    np.testing.assert_array_equal(out[45:, 61:], img[45:, 61:])


def test_soft_edges_fade_in_inside_the_extent():
    img = _bar_image()
    t = AcousticShadow(reflector='detect', threshold=200, min_area=10, strength=0.5,
                       soft_edge=0.25, prob=1.0)
    out = t(dict(img=img.copy()))['img'].astype(int)
    below = out[60, 20:61]
    assert (below < 100).all() and below.min() == 50
    # Darkness rises monotonically from each edge towards the centre.
    assert (np.diff(below[:21]) <= 0).all() and (np.diff(below[20:]) >= 0).all()
    assert below[0] > below[5] > below[10]
    np.testing.assert_array_equal(out[:, :20], img[:, :20])
    np.testing.assert_array_equal(out[:, 61:], img[:, 61:])


def test_shadow_follows_the_deepest_reflector_pixel_of_each_column():
    img = np.full((90, 80), 120, dtype=np.uint8)
    cols = np.arange(10, 61)
    depth = 20 + cols // 2  # a slanted 8-connected reflector
    img[depth, cols] = 255
    img[depth + 1, cols] = 255
    out = AcousticShadow(reflector='detect', threshold=200, min_area=10, strength=0.75,
                         soft_edge=0.0, prob=1.0)(dict(img=img.copy()))['img']
    for c, d in zip(cols, depth):
        np.testing.assert_array_equal(out[:d + 2, c], img[:d + 2, c])
        assert (out[d + 2:, c] == 30).all()
    np.testing.assert_array_equal(out[:, :10], img[:, :10])
    np.testing.assert_array_equal(out[:, 61:], img[:, 61:])


def test_detect_without_reflector_changes_nothing():
    img = np.full((40, 40, 3), 150, dtype=np.uint8)
    out = AcousticShadow(reflector='detect', prob=1.0)(dict(img=img.copy()))['img']
    np.testing.assert_array_equal(out, img)


def test_random_reflector_casts_a_rectangular_shadow_in_the_set_ranges():
    img = np.full((101, 200), 100, dtype=np.uint8)
    t = AcousticShadow(strength=0.5, width=(0.1, 0.3), depth=(0.2, 0.6), soft_edge=0.0,
                       prob=1.0)
    for seed in range(20):
        np.random.seed(seed)
        changed = t(dict(img=img.copy()))['img'] != 100
        cols = np.flatnonzero(changed.any(axis=0))
        rows = np.flatnonzero(changed.any(axis=1))
        assert (np.diff(cols) == 1).all() and rows[-1] == 100
        assert changed[rows[0]:, cols[0]:cols[-1] + 1].all()
        assert changed.sum() == len(rows) * len(cols)
        assert 0.1 * 200 - 1 <= len(cols) <= 0.3 * 200 + 1
        assert 0.2 * 100 <= rows[0] - 1 <= 0.6 * 100 + 1


def _polar(shape, apex):
    ys, xs = np.mgrid[0:shape[0], 0:shape[1]].astype(float)
    dx, dy = xs - apex[0], ys - apex[1]
    return np.arctan2(dx, dy), np.hypot(dx, dy)


def test_sector_shadow_is_radial_from_the_apex():
    h, w = 120, 160
    apex_px = (0.5 * w, -0.5 * h)
    theta, r = _polar((h, w), apex_px)
    img = np.full((h, w), 100, dtype=np.uint8)
    blob = (np.hypot(*np.mgrid[0:h, 0:w][::-1] - np.array([100, 50])[:, None, None]) <= 4)
    img[blob] = 250
    out = AcousticShadow(reflector='detect', threshold=200, min_area=10, strength=0.5,
                         soft_edge=0.0, apex=(0.5, -0.5), prob=1.0)(dict(img=img.copy()))['img']
    changed = out != img
    assert not changed[blob].any()
    t_lo, t_hi, r_hi = theta[blob].min(), theta[blob].max(), r[blob].max()
    # Every changed pixel lies behind the blob, within its angular extent (+- one bin).
    slack = 1.5 / np.median(r[blob])
    assert (theta[changed] >= t_lo - slack).all() and (theta[changed] <= t_hi + slack).all()
    assert (r[changed] > r[blob].min()).all()
    # Straight behind the blob's centre ray: dark; beside it or in front of it: unchanged.
    t_mid = theta[50, 100]
    ahead = (np.abs(theta - t_mid) < 0.2 * (t_hi - t_lo)) & (r > r_hi + 1)
    assert ahead.any() and (out[ahead] == 50).all()
    beside = (np.abs(theta - t_mid) > (t_hi - t_lo) + 2 * slack) & (r > r_hi + 1)
    assert beside.any() and not changed[beside].any()
    assert not changed[r < r[blob].min()].any()


def test_sector_random_shadow_is_a_wedge_beyond_a_radius():
    h, w = 100, 140
    theta, r = _polar((h, w), (0.5 * w, -0.3 * h))
    t = AcousticShadow(strength=0.6, soft_edge=0.0, apex=(0.5, -0.3), prob=1.0)
    img = np.full((h, w), 200, dtype=np.uint8)
    for seed in range(10):
        np.random.seed(seed)
        changed = t(dict(img=img.copy()))['img'] != 200
        assert changed.any()
        r0 = r[changed].min()
        lo, hi = theta[changed].min(), theta[changed].max()
        inner = (theta > lo + 0.02) & (theta < hi - 0.02)
        np.testing.assert_array_equal(changed[inner], r[inner] > r0 - 1e-6)
        assert not changed[(theta < lo - 0.02) | (theta > hi + 0.02)].any()


def test_invalid_arguments_name_the_value():
    with pytest.raises(ValueError, match='beam'):
        AcousticShadow(reflector='beam')
    with pytest.raises(ValueError, match='1.5'):
        AcousticShadow(strength=(0.2, 1.5))
    with pytest.raises(ValueError, match='300'):
        AcousticShadow(threshold=300)
    with pytest.raises(ValueError, match='apex'):
        AcousticShadow(apex=(0.5, ))
    with pytest.raises(ValueError, match='0.7'):
        AcousticShadow(soft_edge=0.7)
