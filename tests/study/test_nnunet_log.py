"""nnU-Net's per-epoch log -> the study's Dice curve and time to 90% of the final value."""
import pytest

from mmssl_us.study.nnunet_log import best_epoch, dice_curve, time_to_fraction


def _log(values, t0=1000.0, epoch_seconds=10.0):
    n = len(values)
    return dict(mean_fg_dice=[v - 0.01 for v in values], ema_fg_dice=list(values),
                epoch_start_timestamps=[t0 + i * epoch_seconds for i in range(n)],
                epoch_end_timestamps=[t0 + (i + 1) * epoch_seconds - 1 for i in range(n)])


def test_curve_is_in_percent_per_epoch():
    assert dice_curve(_log([0.5, 0.25]), 'ema_fg_dice') == [[1, 50.0], [2, 25.0]]
    assert dice_curve(_log([0.5]))[0][1] == pytest.approx(49.0)


def test_time_to_ninety_percent_of_the_final_value():
    # final 0.8: 90% is 0.72, first reached at epoch 3, which ends 29 s after the first start
    log = _log([0.1, 0.5, 0.75, 0.7, 0.8])
    assert time_to_fraction(log) == dict(epochs=3, seconds=29.0)
    assert time_to_fraction(log, level=1.0)['epochs'] == 5
    # without timestamps the epochs are still known
    bare = dict(ema_fg_dice=[0.1, 0.9])
    assert time_to_fraction(bare) == dict(epochs=2, seconds=None)
    assert time_to_fraction(dict(ema_fg_dice=[])) == dict(epochs=None, seconds=None)


def test_missing_or_unknown_keys_are_named():
    with pytest.raises(ValueError, match="no 'ema_fg_dice'.*mean_fg_dice"):
        time_to_fraction(dict(mean_fg_dice=[0.1]))
    with pytest.raises(ValueError, match="'dice'"):
        dice_curve(_log([0.1]), key='dice')


def test_the_best_epoch_is_the_first_at_the_highest_value():
    # nnU-Net saves checkpoint_best on a strict improvement: a tie keeps the earlier epoch
    assert best_epoch(_log([0.2, 0.7, 0.6, 0.7, 0.5])) == 2
    assert best_epoch(_log([0.2, 0.7, 0.6, 0.7, 0.5]), 'mean_fg_dice') == 2
    assert best_epoch(_log([0.9, 0.1])) == 1
    assert best_epoch(dict(ema_fg_dice=[])) is None
