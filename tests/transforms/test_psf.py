import math

import numpy as np
import pytest

from mmssl_us.transforms import AnisotropicPSFBlur
from mmssl_us.transforms.psf import gaussian_kernel


def _second_moment(profile: np.ndarray) -> float:
    x = np.arange(len(profile), dtype=np.float64)
    p = profile.astype(np.float64)
    mean = (x * p).sum() / p.sum()
    return float(((x - mean)**2 * p).sum() / p.sum())


def _gauss(x: np.ndarray, sigma: float) -> np.ndarray:
    return np.exp(-0.5 * (x / sigma)**2) / (math.sqrt(2 * math.pi) * sigma)


@pytest.mark.parametrize('sigma', [0.8, 1.5, 3.0])
def test_kernel_is_normalised_with_variance_sigma_squared(sigma):
    k = gaussian_kernel(sigma)
    assert len(k) % 2 == 1 and k.sum() == pytest.approx(1.0, abs=1e-6)
    assert _second_moment(k) == pytest.approx(sigma**2, rel=0.01)
    assert gaussian_kernel(0.0).tolist() == [1.0]


@pytest.mark.parametrize('axial, lateral', [(1.0, 3.0), (2.0, 1.2)])
def test_line_spread_functions_match_the_set_sigmas(axial, lateral):
    """A horizontal line measures the axial PSF, a vertical line the lateral one."""
    t = AnisotropicPSFBlur(axial_sigma=axial, lateral_sigma=lateral, prob=1.0)
    img = np.zeros((81, 81), dtype=np.uint8)
    img[40, :] = 255
    out = t(dict(img=img))['img']
    axial_profile = out[:, 40]
    assert (out == out[:, :1]).all()  # no lateral change along a horizontal line
    assert _second_moment(axial_profile) == pytest.approx(axial**2, rel=0.06)
    expected = 255 * _gauss(np.arange(81) - 40.0, axial)  # closed form, continuous Gaussian
    assert np.abs(axial_profile - expected).max() <= 1.0

    img = np.zeros((81, 81), dtype=np.uint8)
    img[:, 40] = 255
    out = t(dict(img=img))['img']
    lateral_profile = out[40, :]
    assert (out == out[:1, :]).all()
    assert _second_moment(lateral_profile) == pytest.approx(lateral**2, rel=0.06)
    expected = 255 * _gauss(np.arange(81) - 40.0, lateral)
    assert np.abs(lateral_profile - expected).max() <= 1.0


def test_point_blur_is_wider_laterally_and_keeps_mass():
    img = np.zeros((61, 61), dtype=np.uint8)
    img[28:33, 28:33] = 255  # a small bright scatterer
    out = AnisotropicPSFBlur(axial_sigma=1.0, lateral_sigma=3.0, prob=1.0)(dict(img=img))['img']
    ax = _second_moment(out.sum(axis=1)) - _second_moment(img.sum(axis=1).astype(float))
    lat = _second_moment(out.sum(axis=0)) - _second_moment(img.sum(axis=0).astype(float))
    # Variances add under convolution.
    assert ax == pytest.approx(1.0, rel=0.1) and lat == pytest.approx(9.0, rel=0.05)
    assert out.astype(float).sum() == pytest.approx(img.astype(float).sum(), rel=0.01)


def test_invalid_arguments_name_the_value():
    with pytest.raises(ValueError, match='got -1'):
        AnisotropicPSFBlur(axial_sigma=-1)
    with pytest.raises(ValueError, match=r'\(3, 1\)'):
        AnisotropicPSFBlur(lateral_sigma=(3, 1))
