"""Attenuation, TGC and log compression against closed forms and a loop reference."""
import numpy as np
import pytest

from mmssl_us.synthetic.echo import log_compress, tgc_db, two_way_loss_db


def _loss_reference(alpha):
    out = np.zeros_like(alpha)
    for c in range(alpha.shape[1]):
        above = 0.0
        for r in range(alpha.shape[0]):
            out[r, c] = 2 * (above + 0.5 * alpha[r, c])
            above += alpha[r, c]
    return out


def test_uniform_attenuation_is_linear_in_depth():
    alpha = np.full((50, 3), 0.1)
    loss = two_way_loss_db(alpha)
    np.testing.assert_allclose(loss[:, 0], 2 * 0.1 * (np.arange(50) + 0.5))


def test_loss_matches_loop_reference():
    alpha = np.random.default_rng(0).uniform(0, 2, (40, 7))
    np.testing.assert_allclose(two_way_loss_db(alpha), _loss_reference(alpha), rtol=1e-12)


def test_strong_attenuator_shadows_only_its_columns():
    alpha = np.full((60, 4), 0.05)
    alpha[20:23, 1:3] = 10.0  # bone cortex under columns 1 and 2
    loss = two_way_loss_db(alpha)
    assert loss[40, 1] - loss[40, 0] == pytest.approx(2 * 3 * (10.0 - 0.05))
    np.testing.assert_allclose(loss[:, 0], loss[:, 3])


def test_tgc_ramp_and_knobs():
    np.testing.assert_allclose(tgc_db(5, 0.5)[:, 0], 0.5 * np.arange(5))
    np.testing.assert_allclose(tgc_db(5, 0.0, [3.0])[:, 0], 3.0)
    np.testing.assert_allclose(tgc_db(5, 0.0, [0.0, 8.0])[:, 0], [0, 2, 4, 6, 8])
    assert tgc_db(5, 0.1).shape == (5, 1)
    with pytest.raises(ValueError, match='n_rows'):
        tgc_db(0, 0.1)


@pytest.mark.parametrize('gain,dr', [(0.0, 50.0), (-3.0, 60.0)])
def test_log_compression_maps_window_linearly(gain, dr):
    k = np.arange(256)
    level = gain - dr * (1 - k / 255)  # the dB level that should show as grey k
    grey = log_compress(10**(level / 10), gain, dr)
    np.testing.assert_array_equal(grey, k.astype(np.uint8))
    clipped = log_compress(10**(np.array([gain + 10, gain - dr - 10]) / 10), gain, dr)
    np.testing.assert_array_equal(clipped, [255, 0])


def test_log_compression_adds_gain_map():
    intensity = np.full((3, 2), 10**(-2.5))  # -25 dB
    grey = log_compress(intensity, 0.0, 50.0, gain_map_db=np.array([[0.0], [25.0], [-25.0]]))
    np.testing.assert_array_equal(grey[:, 0], [128, 255, 0])


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match='dynamic_range'):
        log_compress(np.ones(3), 0.0, 0.0)
    with pytest.raises(ValueError, match='alpha_db'):
        two_way_loss_db(-np.ones((2, 2)))
