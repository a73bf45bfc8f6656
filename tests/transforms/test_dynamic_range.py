import numpy as np
import pytest

from mmssl_us.transforms import GainChange, LogCompression
from mmssl_us.transforms.dynamic_range import compress, expand

LEVELS = np.arange(256, dtype=np.uint8)


def _display(env, dr):
    """Reference log map written with log10 / powers instead of log1p / expm1."""
    c = 10**(dr / 20)
    return np.log10(1 + c * env) / np.log10(1 + c)


def _envelope(y, dr):
    c = 10**(dr / 20)
    return ((1 + c)**y - 1) / c


def _apply(t, img, seed=0):
    """Run ``t``; a 1-D row of levels is run as a 2-row image and returned as a row."""
    np.random.seed(seed)
    if img.ndim == 1:
        return t(dict(img=np.stack([img, img])))['img'][0]
    return t(dict(img=img.copy()))['img']


def test_compress_and_expand_are_inverse_and_match_the_reference():
    y = np.linspace(0, 1, 101)
    for dr in (20, 45, 60, 80):
        np.testing.assert_allclose(compress(expand(y, dr), dr), y, atol=1e-12)
        np.testing.assert_allclose(expand(y, dr), _envelope(y, dr), rtol=1e-9, atol=1e-15)
    for dr in (45, 60, 80):
        # Logarithmic for e >> 1 / c: a decade (20 dB) of envelope spans 20 / DR of the display.
        step = compress(1.0, dr) - compress(0.1, dr)
        assert step == pytest.approx(20 / dr, rel=0.03)


@pytest.mark.parametrize('out_dr', [40.0, 60.0, 80.0])
def test_log_compression_closed_form_monotonic_and_fixed_ends(out_dr):
    out = _apply(LogCompression(dr_db=out_dr, in_dr_db=60.0, prob=1.0), LEVELS)
    expected = 255 * _display(_envelope(LEVELS / 255, 60.0), out_dr)
    assert np.abs(out - expected).max() <= 0.5 + 1e-9
    assert out[0] == 0 and out[255] == 255
    assert (np.diff(out.astype(int)) >= 0).all()
    if out_dr == 60.0:
        np.testing.assert_array_equal(out, LEVELS)  # same range: identity


def test_wider_range_shows_weaker_echoes():
    narrow = _apply(LogCompression(dr_db=40.0, prob=1.0), LEVELS).astype(int)
    wide = _apply(LogCompression(dr_db=80.0, prob=1.0), LEVELS).astype(int)
    assert (wide >= narrow).all() and (wide[1:200] > narrow[1:200]).all()
    # Closed form at mid grey, input range 20 dB -> 40 dB: 255 * log(1 + 100 e) / log(101).
    t = LogCompression(dr_db=40.0, in_dr_db=20.0, prob=1.0)
    mid = _apply(t, np.array([128, 128], np.uint8))
    e = (11**(128 / 255) - 1) / 10
    assert mid[0] == int(np.floor(255 * np.log(1 + 100 * e) / np.log(101) + 0.5))


@pytest.mark.parametrize('gain', [-12.0, -3.0, 0.0, 6.0])
def test_gain_closed_form_monotonic_and_zero_stays_zero(gain):
    out = _apply(GainChange(gain_db=gain, in_dr_db=60.0, prob=1.0), LEVELS)
    env = np.minimum(1.0, 10**(gain / 20) * _envelope(LEVELS / 255, 60.0))
    assert np.abs(out - 255 * _display(env, 60.0)).max() <= 0.5 + 1e-9
    assert out[0] == 0
    assert (np.diff(out.astype(int)) >= 0).all()
    if gain == 0.0:
        np.testing.assert_array_equal(out, LEVELS)
    if gain > 0:
        assert (out >= LEVELS).all() and out[200] > 200 and out[255] == 255
    if gain < 0:
        assert (out <= LEVELS).all() and out[200] < 200


def test_gain_shifts_bright_echoes_by_gain_over_range():
    out = _apply(GainChange(gain_db=6.0, in_dr_db=60.0, prob=1.0), LEVELS).astype(int)
    # Where the map is logarithmic (bright, unsaturated echoes), +6 dB moves a level by
    # 6 / 60 of the display: 25.5 grey levels.
    assert np.abs(out[150:220] - LEVELS[150:220] - 25.5).max() <= 1.0


def test_photometric_maps_apply_to_every_channel_alike():
    grey = np.random.default_rng(0).integers(0, 256, (16, 16), dtype=np.uint8)
    for t in (LogCompression(prob=1.0), GainChange(prob=1.0)):
        out = _apply(t, np.dstack([grey] * 3), seed=4)
        assert out.shape == (16, 16, 3)
        np.testing.assert_array_equal(out[..., 0], _apply(t, grey, seed=4))
        np.testing.assert_array_equal(out[..., 2], out[..., 0])


def test_invalid_arguments_name_the_value():
    with pytest.raises(ValueError, match='got -5'):
        LogCompression(dr_db=-5)
    with pytest.raises(ValueError, match='got 0'):
        GainChange(in_dr_db=0)
    with pytest.raises(ValueError, match="'loud'"):
        GainChange(gain_db='loud')
