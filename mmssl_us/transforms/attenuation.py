"""Depth-dependent gain: residual tissue attenuation and time-gain compensation (TGC).

Depth runs down the image rows: row 0 touches the probe, the last row is the deepest.
Depth is measured in image heights, ``d = row / (H - 1)``, so gains are scale free.
"""
from typing import Sequence, Tuple, Union

import numpy as np
from mmcv.transforms import BaseTransform
from mmcv.transforms.utils import cache_randomness
from mmengine.registry import TRANSFORMS

from ..validate import check_int, check_range
from ._utils import apply_gain, check_prob, get_image


def pchip(xk: np.ndarray, yk: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Monotone piecewise cubic Hermite interpolation (Fritsch-Carlson slopes).

    The curve passes through every knot, is continuously differentiable, and never leaves
    the range of the two knots around each interval (no overshoot).

    Args:
        xk (np.ndarray): Strictly increasing knot positions, at least two.
        yk (np.ndarray): Knot values.
        x (np.ndarray): Positions to evaluate, within ``[xk[0], xk[-1]]``.

    Returns:
        np.ndarray: Interpolated values (float64), shaped like ``x``.
    """
    xk, yk, x = (np.asarray(a, dtype=np.float64) for a in (xk, yk, x))
    h = np.diff(xk)
    delta = np.diff(yk) / h
    d = np.zeros_like(yk)
    if len(xk) == 2:
        d[:] = delta[0]
    else:
        # Interior: weighted harmonic mean of the secants, zero at local extrema.
        w1, w2 = 2 * h[1:] + h[:-1], h[1:] + 2 * h[:-1]
        same = delta[:-1] * delta[1:] > 0
        with np.errstate(divide='ignore', invalid='ignore'):
            hm = (w1 + w2) / (w1 / delta[:-1] + w2 / delta[1:])
        d[1:-1] = np.where(same, hm, 0.0)
        d[0] = _end_slope(h[0], h[1], delta[0], delta[1])
        d[-1] = _end_slope(h[-1], h[-2], delta[-1], delta[-2])
    i = np.clip(np.searchsorted(xk, x, side='right') - 1, 0, len(xk) - 2)
    t = (x - xk[i]) / h[i]
    t2, t3 = t * t, t * t * t
    return ((2 * t3 - 3 * t2 + 1) * yk[i] + (t3 - 2 * t2 + t) * h[i] * d[i]
            + (-2 * t3 + 3 * t2) * yk[i + 1] + (t3 - t2) * h[i] * d[i + 1])


def _end_slope(h0: float, h1: float, m0: float, m1: float) -> float:
    """Shape-preserving three-point slope at an end knot."""
    d = ((2 * h0 + h1) * m0 - h0 * m1) / (h0 + h1)
    if np.sign(d) != np.sign(m0):
        return 0.0
    if np.sign(m0) != np.sign(m1) and abs(d) > abs(3 * m0):
        return 3 * m0
    return d


@TRANSFORMS.register_module()
class DepthAttenuation(BaseTransform):
    """Darken the image exponentially with depth (uncompensated tissue attenuation).

    The echo amplitude of row ``y`` is scaled by ``10 ** (-alpha * d / 20)`` with
    ``d = y / (H - 1)``: ``alpha`` is the loss in dB between the top and the bottom row,
    a dB/cm coefficient expressed per image height. Soft tissue attenuates about
    0.5 dB/cm/MHz one way; a scanner's TGC removes most of it, so the default range models
    the residual. The same gain is applied to every channel.

    Required Keys:

    - img

    Modified Keys:

    - img

    Args:
        alpha (float | Sequence[float]): Loss in dB over the image height, or a
            ``(min, max)`` range to draw it from uniformly; >= 0. Defaults to (0.0, 6.0).
        prob (float): Probability of applying the transform. Defaults to 0.5.
    """

    def __init__(self,
                 alpha: Union[float, Sequence[float]] = (0.0, 6.0),
                 prob: float = 0.5) -> None:
        self.alpha = check_range('alpha', alpha, low=0.0)
        self.prob = check_prob(prob)

    @staticmethod
    def depth_gain(height: int, alpha: float) -> np.ndarray:
        """Amplitude gain per row: ``10 ** (-alpha * d / 20)``, shaped Hx1."""
        depth = np.arange(height, dtype=np.float64) / max(height - 1, 1)
        return (10.0**(-alpha * depth / 20.0)).astype(np.float32)[:, None]

    @cache_randomness
    def _random_params(self) -> Tuple[bool, float]:
        """Draw (apply, alpha)."""
        return bool(np.random.rand() < self.prob), float(np.random.uniform(*self.alpha))

    def transform(self, results: dict) -> dict:
        """Attenuate ``results['img']`` with depth.

        Args:
            results (dict): Result dict with ``img``.

        Returns:
            dict: The result dict with the attenuated image.
        """
        img = get_image(results, type(self).__name__)
        apply, alpha = self._random_params()
        if apply:
            results['img'] = apply_gain(img, self.depth_gain(img.shape[0], alpha))
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(alpha={self.alpha}, prob={self.prob})'


@TRANSFORMS.register_module()
class TGCCurve(BaseTransform):
    """Apply a smooth random time-gain-compensation curve over depth.

    ``num_points`` control points sit at evenly spaced depths from the top row to the
    bottom row; each draws a gain in dB uniformly from ``gain_db``. The gain of every row is
    the monotone cubic (PCHIP) interpolation of the control points, so the curve passes
    through them and never overshoots them. Amplitudes are scaled by ``10 ** (g / 20)``.

    Required Keys:

    - img

    Modified Keys:

    - img

    Args:
        num_points (int): Number of control points, >= 2. Defaults to 5.
        gain_db (Sequence[float]): ``(min, max)`` gain in dB of a control point.
            Defaults to (-6.0, 6.0).
        prob (float): Probability of applying the transform. Defaults to 0.5.
    """

    def __init__(self,
                 num_points: int = 5,
                 gain_db: Sequence[float] = (-6.0, 6.0),
                 prob: float = 0.5) -> None:
        self.num_points = check_int('num_points', num_points, low=2)
        self.gain_db = check_range('gain_db', gain_db)
        self.prob = check_prob(prob)

    @staticmethod
    def control_rows(height: int, num_points: int) -> np.ndarray:
        """Row positions of the control points (float, first row to last row)."""
        return np.linspace(0.0, height - 1.0, num_points)

    @classmethod
    def gain_curve(cls, height: int, gains_db: np.ndarray) -> np.ndarray:
        """Gain in dB of every row, interpolated through ``gains_db``; shape (H,)."""
        rows = cls.control_rows(height, len(gains_db))
        return pchip(rows, np.asarray(gains_db, dtype=np.float64), np.arange(height))

    @cache_randomness
    def _random_params(self) -> Tuple[bool, np.ndarray]:
        """Draw (apply, control-point gains in dB)."""
        apply = bool(np.random.rand() < self.prob)
        return apply, np.random.uniform(*self.gain_db, size=self.num_points)

    def transform(self, results: dict) -> dict:
        """Apply the TGC curve to ``results['img']``.

        Args:
            results (dict): Result dict with ``img``.

        Returns:
            dict: The result dict with the re-gained image.
        """
        img = get_image(results, type(self).__name__)
        apply, gains_db = self._random_params()
        if apply:
            curve = self.gain_curve(img.shape[0], gains_db)
            results['img'] = apply_gain(img, (10.0**(curve / 20.0))[:, None])
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(num_points={self.num_points}, '
                f'gain_db={self.gain_db}, prob={self.prob})')
