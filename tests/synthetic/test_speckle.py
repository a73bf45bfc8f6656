"""Speckle statistics against closed-form values of fully developed speckle (Goodman)."""
import numpy as np
import pytest

from mmssl_us.synthetic.speckle import draw_scatterers, gaussian_psf, speckle_intensity

SHAPE = (512, 512)


def _uniform_speckle(sigma_axial, sigma_lateral, density=1.0, seed=0):
    rng = np.random.default_rng(seed)
    scat = draw_scatterers(rng, SHAPE)
    return speckle_intensity(np.zeros(SHAPE), density, scat,
                             gaussian_psf(sigma_axial, sigma_lateral))


@pytest.mark.parametrize('sigmas', [(1.0, 2.0), (1.5, 3.0)])
def test_psf_has_unit_energy(sigmas):
    kz, kx = gaussian_psf(*sigmas)
    assert np.sum(np.outer(kz, kx)**2) == pytest.approx(1.0, rel=1e-12)
    assert len(kz) % 2 == 1 and len(kx) % 2 == 1


@pytest.mark.parametrize('sigmas', [(1.0, 2.0), (1.5, 3.0)])
def test_fully_developed_speckle_is_rayleigh(sigmas):
    intensity = _uniform_speckle(*sigmas)
    # Mean intensity equals the scatterer power (0 dB = 1).
    assert intensity.mean() == pytest.approx(1.0, rel=0.06)
    env = np.sqrt(intensity)
    # Rayleigh envelope: mean / std = sqrt(pi / (4 - pi)) = 1.913.
    assert env.mean() / env.std() == pytest.approx(np.sqrt(np.pi / (4 - np.pi)), rel=0.05)
    # Exponential intensity: std of 10 log10(I) = 10 / ln 10 * pi / sqrt(6) = 5.57 dB.
    db = 10 * np.log10(intensity)
    assert db.std() == pytest.approx(10 / np.log(10) * np.pi / np.sqrt(6), rel=0.05)


@pytest.mark.parametrize('axis,sigma,lag', [(1, 3.0, 3), (1, 3.0, 6), (0, 1.5, 1), (0, 1.5, 2)])
def test_intensity_autocorrelation_matches_psf(axis, sigma, lag):
    # A Gaussian PSF of std s gives an intensity autocovariance exp(-d^2 / (2 s^2)).
    sigmas = (1.5, 3.0)
    intensity = _uniform_speckle(*sigmas, seed=1)
    x = intensity - intensity.mean()
    a = x[:-lag] if axis == 0 else x[:, :-lag]
    b = x[lag:] if axis == 0 else x[:, lag:]
    rho = np.mean(a * b) / np.sqrt(np.mean(a * a) * np.mean(b * b))
    assert rho == pytest.approx(np.exp(-lag**2 / (2 * sigma**2)), abs=0.04)


def test_sparse_scatterers_keep_mean_and_are_grainier():
    dense = _uniform_speckle(0.8, 1.2, density=1.0, seed=2)
    sparse = _uniform_speckle(0.8, 1.2, density=0.02, seed=2)
    assert sparse.mean() == pytest.approx(1.0, rel=0.1)
    snr = [np.sqrt(i).mean() / np.sqrt(i).std() for i in (dense, sparse)]
    assert snr[1] < snr[0] - 0.3  # few scatterers per cell: heavier tails than Rayleigh


def test_level_scales_intensity_and_coherent_adds():
    rng = np.random.default_rng(3)
    scat = draw_scatterers(rng, SHAPE)
    psf = gaussian_psf(1.0, 2.0)
    base = speckle_intensity(np.zeros(SHAPE), 1.0, scat, psf)
    louder = speckle_intensity(np.full(SHAPE, 20.0), 1.0, scat, psf)
    np.testing.assert_allclose(louder, 100.0 * base, rtol=1e-9)
    rows = np.full(SHAPE[1], 100)
    cols = np.arange(SHAPE[1])
    line = speckle_intensity(np.full(SHAPE, -200.0), 1.0, scat, psf,
                             coherent=(rows, cols, np.full(SHAPE[1], 1.0)))
    # A line of unit in-phase amplitude seen through the PSF: sum(kx) * kz at each depth.
    kz, kx = psf
    centre = len(kz) // 2
    expected = (kx.sum() * kz[centre])**2
    assert line[100, 200] == pytest.approx(expected, rel=1e-6)
    assert line[100 + centre + 2, 200] < 1e-12


def test_noise_power_fills_silence():
    rng = np.random.default_rng(4)
    scat = draw_scatterers(rng, SHAPE)
    out = speckle_intensity(np.full(SHAPE, -300.0), 1.0, scat, gaussian_psf(1.0, 2.0),
                            noise_power=1e-4)
    assert out.mean() == pytest.approx(1e-4, rel=0.08)


@pytest.mark.parametrize('bad', [0.0, -1.0, float('nan')])
def test_bad_psf_sigma_is_named(bad):
    with pytest.raises(ValueError, match='sigma_axial'):
        gaussian_psf(bad, 1.0)


def test_bad_density_and_noise_raise():
    scat = draw_scatterers(np.random.default_rng(0), (8, 8))
    psf = gaussian_psf(1.0, 1.0)
    with pytest.raises(ValueError, match='density'):
        speckle_intensity(np.zeros((8, 8)), 0.0, scat, psf)
    with pytest.raises(ValueError, match='noise_power'):
        speckle_intensity(np.zeros((8, 8)), 1.0, scat, psf, noise_power=-1.0)
    with pytest.raises(ValueError, match='shape'):
        speckle_intensity(np.zeros((4, 8)), 1.0, scat, psf)
