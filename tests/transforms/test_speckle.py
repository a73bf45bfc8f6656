import math

import numpy as np
import pytest

from mmssl_us.transforms import SpeckleNoise
from mmssl_us.transforms.speckle import RAYLEIGH_CV, speckle_multiplier


@pytest.mark.parametrize('distribution', ['rayleigh', 'gamma'])
@pytest.mark.parametrize('sigma', [0.1, 0.25, 0.45])
def test_multiplier_has_unit_mean_and_set_variance(distribution, sigma):
    m = speckle_multiplier((512, 512), sigma, distribution, np.random.default_rng(1))
    assert m.dtype == np.float32
    assert m.mean() == pytest.approx(1.0, abs=0.005)
    assert m.var() == pytest.approx(sigma**2, rel=0.03)
    assert m.min() >= 0.0


def test_multiplier_laws_at_full_development():
    """Fully developed speckle: Rayleigh envelope, exponential intensity (closed-form CDFs)."""
    rng = np.random.default_rng(2)
    ray = speckle_multiplier((400, 400), RAYLEIGH_CV, 'rayleigh', rng)
    # A Rayleigh variable is below its mean with probability 1 - exp(-pi / 4).
    assert np.mean(ray <= 1.0) == pytest.approx(1 - math.exp(-math.pi / 4), abs=0.005)
    expo = speckle_multiplier((400, 400), 1.0, 'gamma', rng)
    assert np.mean(expo <= 1.0) == pytest.approx(1 - math.exp(-1), abs=0.005)
    assert np.mean(expo <= 0.5) == pytest.approx(1 - math.exp(-0.5), abs=0.005)


@pytest.mark.parametrize('distribution', ['rayleigh', 'gamma'])
def test_flat_image_keeps_local_mean_and_gains_closed_form_variance(distribution):
    mu, sigma = 80.0, 0.25
    img = np.full((256, 256), mu, dtype=np.uint8)
    np.random.seed(3)
    out = SpeckleNoise(sigma=sigma, distribution=distribution, prob=1.0)(dict(img=img))['img']
    out = out.astype(np.float64)
    # Var = mu^2 sigma^2 for a unit-mean multiplier, plus 1/12 from rounding to integers.
    assert out.var() == pytest.approx(mu**2 * sigma**2 + 1 / 12, rel=0.05)
    assert out.mean() == pytest.approx(mu, abs=0.5)
    blocks = out.reshape(16, 16, 16, 16).mean(axis=(1, 3))  # 16x16-pixel local means
    block_se = mu * sigma / 16
    assert np.abs(blocks - mu).max() < 5 * block_se


def test_zero_sigma_is_identity():
    img = np.random.default_rng(0).integers(0, 256, (32, 40), dtype=np.uint8)
    out = SpeckleNoise(sigma=0.0, prob=1.0)(dict(img=img.copy()))['img']
    np.testing.assert_array_equal(out, img)


def test_rayleigh_sigma_limit_and_bad_distribution():
    with pytest.raises(ValueError, match='0.6'):
        SpeckleNoise(sigma=(0.1, 0.6), distribution='rayleigh')
    SpeckleNoise(sigma=(0.1, 0.6), distribution='gamma')  # allowed for gamma
    with pytest.raises(ValueError, match='gauss'):
        SpeckleNoise(distribution='gauss')
    with pytest.raises(ValueError, match='-0.1'):
        SpeckleNoise(sigma=-0.1)
