"""What the momentum (EMA) key encoder of every method shares: the check of its momentum
(DenseCL, MoCo v2; mmpretrain's ``ExponentialMovingAverage`` does the update)."""

__all__ = ['check_ema_momentum']


def check_ema_momentum(momentum: float) -> float:
    """Validate the EMA weight of the online encoder (``1 - m`` in the MoCo papers' notation).

    Args:
        momentum (float): Weight of the online parameters in one key-encoder update.

    Returns:
        float: ``momentum`` unchanged.

    Raises:
        ValueError: outside ``(0, 0.5)``; a value such as 0.999 is the papers' ``m`` passed by
            mistake, which would make the key encoder a copy of the query encoder.
    """
    if not isinstance(momentum, (int, float)) or isinstance(momentum, bool) \
            or not 0.0 < momentum < 0.5:
        raise ValueError(
            f'momentum={momentum!r}: mmpretrain applies key = (1 - momentum) * key + momentum * '
            'query, so momentum is 1 - m in the papers\' notation and must lie in (0, 0.5); '
            'for the papers\' m = 0.999 pass momentum=0.001')
    return float(momentum)
