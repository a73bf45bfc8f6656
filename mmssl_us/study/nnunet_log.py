"""Read nnU-Net v2's per-epoch log (a checkpoint's ``logging``) for the study's measurements.

nnU-Net's trainer logs, per epoch, ``mean_fg_dice`` (the pseudo Dice of the validation
iterations), its moving average ``ema_fg_dice`` (what selects ``checkpoint_best``), and
``epoch_start_timestamps`` / ``epoch_end_timestamps`` (seconds since the epoch); its
``checkpoint_final.pth`` stores them under ``'logging'``. From them: the Dice curve in the
study's ``[step, value]`` form (steps are epochs, values in percent, so that
:mod:`mmssl_us.study.stats` and :mod:`mmssl_us.study.gates` read it like an mmseg curve) and
the thesis's "time to 90% of the final performance" (epochs and seconds), through the same
:func:`~mmssl_us.study.stats.iterations_to_fraction` the 2D study uses. Standard library only.
"""
from typing import Dict, List, Mapping, Optional

from .stats import iterations_to_fraction

KEYS = ('mean_fg_dice', 'ema_fg_dice')


def _series(logging: Mapping, key: str) -> List[float]:
    if key not in KEYS:
        raise ValueError(f'key must be one of {KEYS}, got {key!r}')
    if key not in logging:
        raise ValueError(f'the nnU-Net log has no {key!r} (keys: {sorted(logging)})')
    return [float(v) for v in logging[key]]


def dice_curve(logging: Mapping, key: str = 'mean_fg_dice') -> List[List[float]]:
    """``[[epoch, percent], ...]`` (epochs counted from 1) of ``key``."""
    return [[epoch, 100.0 * v] for epoch, v in enumerate(_series(logging, key), start=1)]


def best_epoch(logging: Mapping, key: str = 'ema_fg_dice') -> Optional[int]:
    """The epoch (from 1) whose checkpoint nnU-Net keeps as ``checkpoint_best.pth``: the first
    one at the highest ``key`` (it saves on a strict improvement); None for an empty log."""
    values = _series(logging, key)
    return values.index(max(values)) + 1 if values else None


def time_to_fraction(logging: Mapping, level: float = 0.9,
                     key: str = 'ema_fg_dice') -> Dict[str, Optional[float]]:
    """When ``key`` first reached ``level`` times its final value.

    Returns:
        dict: ``epochs`` (1-based epoch, None for an empty log) and ``seconds`` from the start
        of the first epoch to the end of that one (None where timestamps are missing).
    """
    curve = dice_curve(logging, key)
    epoch = iterations_to_fraction(curve, level)
    if epoch is None:
        return dict(epochs=None, seconds=None)
    starts = logging.get('epoch_start_timestamps') or []
    ends = logging.get('epoch_end_timestamps') or []
    seconds = (float(ends[epoch - 1]) - float(starts[0])
               if starts and len(ends) >= epoch else None)
    return dict(epochs=epoch, seconds=seconds)
