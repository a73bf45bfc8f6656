"""Probe footprints and scan conversion against closed-form geometry."""
import numpy as np
import pytest

from mmssl_us.synthetic.geometry import (P_CONVEX, ProbeGeometry, footprint, sample_geometry,
                                         to_image)

SIZE = (200, 240)


def _convex(top=4, r0=120.0, half=0.3):
    h, w = SIZE
    r1 = r0 + (h - top) - 0.5
    return ProbeGeometry('convex', SIZE, (h - top, w), top=top, apex=(top - 0.5 - r0, 119.5),
                         radii=(r0, r1), half_angle=half)


def test_linear_footprint_is_the_pasted_rectangle():
    geom = ProbeGeometry('linear', SIZE, (190, 220), top=10, left=7)
    fp = footprint(geom)
    assert fp.sum() == 190 * 220
    beam = np.arange(190 * 220, dtype=np.float32).reshape(190, 220) + 1
    img = to_image(beam, geom)
    np.testing.assert_array_equal(img[10:, 7:227], beam)
    assert not img[~fp].any()


def test_convex_footprint_area_is_the_annular_sector():
    geom = _convex()
    (ay, ax), (r0, r1) = geom.apex, geom.radii
    # The sector fits in the image: area = half_angle * (r1^2 - r0^2).
    assert ax + r1 * np.sin(geom.half_angle) < SIZE[1] and ax - r1 * np.sin(geom.half_angle) > 0
    expected = geom.half_angle * (r1**2 - r0**2)
    assert footprint(geom).sum() == pytest.approx(expected, rel=0.01)


def test_convex_scan_conversion_follows_radius_and_angle():
    geom = _convex()
    rows, lines = geom.beam_shape
    (ay, ax), (r0, r1) = geom.apex, geom.radii
    y, x = np.mgrid[0:SIZE[0], 0:SIZE[1]].astype(np.float64)
    r = np.hypot(y - ay, x - ax)
    theta = np.arctan2(x - ax, y - ay)
    inside = (r >= r0 + 2) & (r <= r1 - 2) & (np.abs(theta) <= geom.half_angle - 0.02)
    depth = np.repeat(np.arange(rows, dtype=np.float32)[:, None], lines, 1)
    line = np.repeat(np.arange(lines, dtype=np.float32)[None, :], rows, 0)
    img_depth = to_image(depth, geom)
    img_line = to_image(line, geom)
    exp_depth = (r - r0) / (r1 - r0) * rows - 0.5
    exp_line = (theta + geom.half_angle) / (2 * geom.half_angle) * lines - 0.5
    assert np.abs(img_depth - exp_depth)[inside].max() < 0.05
    assert np.abs(img_line - exp_line)[inside].max() < 0.05
    assert not img_depth[~footprint(geom)].any()


def test_nearest_scan_conversion_keeps_labels():
    geom = _convex()
    labels = np.zeros(geom.beam_shape, np.uint8)
    labels[50:80, 100:150] = 5
    out = to_image(labels, geom, nearest=True)
    assert set(np.unique(out)) == {0, 5}


def test_sampled_geometries():
    rng = np.random.default_rng(0)
    kinds = [sample_geometry(rng, SIZE).kind for _ in range(600)]
    share = kinds.count('convex') / len(kinds)
    assert abs(share - P_CONVEX) < 3 * np.sqrt(P_CONVEX * (1 - P_CONVEX) / len(kinds))
    for seed in range(20):
        convex = sample_geometry(np.random.default_rng(seed), SIZE, 'convex')
        fp = footprint(convex)
        assert not fp[0, 0] and not fp[0, -1]  # the sector leaves the top corners black
        assert fp[SIZE[0] // 2, SIZE[1] // 2]
        linear = sample_geometry(np.random.default_rng(seed), SIZE, 'linear')
        fp = footprint(linear)
        ys, xs = np.nonzero(fp)
        assert fp[ys.min():ys.max() + 1, xs.min():xs.max() + 1].all()  # a full rectangle
        assert fp.mean() > 0.75


def test_kind_draws_do_not_shift_the_stream():
    # Forcing the kind draws the same numbers, so the rest of a patient stays the same.
    a, b = np.random.default_rng(5), np.random.default_rng(5)
    sample_geometry(a, SIZE, 'linear')
    sample_geometry(b, SIZE, 'convex')
    assert a.random() == b.random()


def test_bad_kind_and_shape_are_named():
    with pytest.raises(ValueError, match='sector'):
        sample_geometry(np.random.default_rng(0), SIZE, 'sector')
    with pytest.raises(ValueError, match='shape'):
        to_image(np.zeros((3, 3)), _convex())
