import numpy as np
import pytest
from scipy.interpolate import PchipInterpolator

from mmssl_us.transforms import DepthAttenuation, TGCCurve
from mmssl_us.transforms.attenuation import pchip


@pytest.mark.parametrize('alpha', [3.0, 6.0, 20.0])
def test_attenuation_darkens_monotonically_with_closed_form_rows(alpha):
    img = np.full((120, 50), 200, dtype=np.uint8)
    out = DepthAttenuation(alpha=alpha, prob=1.0)(dict(img=img))['img'].astype(np.int64)
    assert (out == out[:, :1]).all()  # depth only: every column alike
    rows = out[:, 0]
    assert (np.diff(rows) <= 0).all() and rows[-1] < rows[0]
    depth = np.arange(120) / 119
    expected = 200 * 10**(-alpha * depth / 20)  # amplitude loss of alpha dB at the bottom
    assert np.abs(rows - expected).max() <= 0.5 + 1e-3
    assert rows[0] == 200


def test_attenuation_on_three_channels_matches_single_channel():
    grey = np.random.default_rng(0).integers(0, 256, (40, 30), dtype=np.uint8)
    np.random.seed(5)
    one = DepthAttenuation(prob=1.0)(dict(img=grey.copy()))['img']
    np.random.seed(5)
    three = DepthAttenuation(prob=1.0)(dict(img=np.dstack([grey] * 3)))['img']
    for c in range(3):
        np.testing.assert_array_equal(three[..., c], one)


def test_pchip_matches_scipy_and_never_overshoots():
    rng = np.random.default_rng(1)
    for n in (2, 3, 5, 9):
        xk = np.sort(rng.choice(200, size=n, replace=False)).astype(float)
        yk = rng.uniform(-6, 6, size=n)
        x = np.linspace(xk[0], xk[-1], 777)
        np.testing.assert_allclose(pchip(xk, yk, x), PchipInterpolator(xk, yk)(x), atol=1e-9)
        assert pchip(xk, yk, x).min() >= yk.min() - 1e-9
        assert pchip(xk, yk, x).max() <= yk.max() + 1e-9


def test_tgc_curve_passes_through_its_control_points():
    height, gains = 101, np.array([-4.0, 2.5, 0.0, 5.0, -1.0])
    curve = TGCCurve.gain_curve(height, gains)
    rows = TGCCurve.control_rows(height, 5)
    np.testing.assert_array_equal(rows, [0, 25, 50, 75, 100])
    np.testing.assert_allclose(curve[rows.astype(int)], gains, atol=1e-12)
    assert np.abs(np.diff(curve)).max() < 0.5  # smooth: no jumps between rows


def test_tgc_applies_the_drawn_curve():
    t = TGCCurve(num_points=4, gain_db=(-6.0, 6.0), prob=1.0)
    img = np.full((91, 20), 100, dtype=np.uint8)
    np.random.seed(11)
    out = t(dict(img=img))['img'].astype(np.float64)
    np.random.seed(11)
    _, gains = t._random_params()  # same draws as inside the call above
    expected = 100 * 10**(TGCCurve.gain_curve(91, gains) / 20)
    assert np.abs(out[:, 7] - expected).max() <= 0.5 + 1e-3
    control = TGCCurve.control_rows(91, 4).astype(int)
    assert np.abs(out[control, 0] - 100 * 10**(gains / 20)).max() <= 0.5 + 1e-3


def test_invalid_arguments_name_the_value():
    with pytest.raises(ValueError, match='got -1.0'):
        DepthAttenuation(alpha=-1.0)
    with pytest.raises(ValueError, match='got 1'):
        TGCCurve(num_points=1)
    with pytest.raises(ValueError, match=r'\(6, -6\)'):
        TGCCurve(gain_db=(6, -6))
