"""Probe footprints as geometry: the three probe kinds, exact rasters, synthetic drawings.

Pixel coordinates are ``(x, y)`` (x right, y down) and beam angles are measured from
straight down, positive towards +x. The kinds:

* ``'linear'``: a rectangle (parallel vertical beams);
* ``'convex'``: an annular sector, beams fanning from an apex above the image, between an
  inner radius (the probe face) and an outer radius (the imaging depth);
* ``'phased'``: a sector from an apex at (or near) the top row, inner radius 0.
"""
import math
from typing import Sequence, Tuple

import numpy as np

from ..validate import check_choice

KINDS = ('linear', 'convex', 'phased')
#: Default drawing parameters per kind, in units of the image height H and width W:
#: apex (x / W, y / H), half angle in degrees, radii (r_in / H, r_out / H).
_DEFAULT_SECTORS = {'convex': ((0.5, -0.6), 25.0, (0.65, 1.55)),
                    'phased': ((0.5, 0.0), 40.0, (0.0, 0.97))}


def sector_mask(shape: Tuple[int, int], apex: Sequence[float], angles: Sequence[float],
                radii: Sequence[float]) -> np.ndarray:
    """Pixels whose centre lies in an annular sector.

    Evaluated row by row (a wedge is an interval of x per row, a ring a band), so it costs
    a few comparisons per pixel and no trigonometry.

    Args:
        shape (tuple[int, int]): ``(H, W)``.
        apex (Sequence[float]): ``(x, y)`` of the apex in pixels.
        angles (Sequence[float]): ``(left, right)`` beam angles in radians from straight
            down, positive towards +x, both within (-pi/2, pi/2).
        radii (Sequence[float]): ``(inner, outer)`` radii in pixels.

    Returns:
        np.ndarray: bool mask of shape ``(H, W)``.
    """
    if not -math.pi / 2 < angles[0] <= angles[1] < math.pi / 2:
        raise ValueError(f'angles must be ordered within (-pi/2, pi/2), got {angles!r}')
    (ax, ay), (r_in, r_out) = apex, radii
    dy = np.arange(shape[0], dtype=np.float64) - ay
    with np.errstate(invalid='ignore'):  # sqrt of negatives: rows the circle misses
        s_out, s_in = np.sqrt(r_out**2 - dy * dy), np.sqrt(r_in**2 - dy * dy)
    # Per row, x - ax in [lo, hi] (wedge within the outer circle), except |x - ax| < s_in.
    lo = np.where(dy > 0, dy * math.tan(angles[0]), np.where(dy == 0, 0.0, np.inf))
    hi = np.where(dy > 0, dy * math.tan(angles[1]), np.where(dy == 0, 0.0, -np.inf))
    lo, hi = np.fmax(lo, -s_out), np.fmin(hi, s_out)  # NaN (no circle) leaves lo > hi
    lo[np.isnan(s_out)], hi[np.isnan(s_out)] = np.inf, -np.inf
    w = shape[1]
    x_lo = np.clip(np.ceil(ax + lo), 0, w).astype(np.int64)
    x_hi = np.clip(np.floor(ax + hi) + 1, 0, w).astype(np.int64)  # exclusive
    hole = ~np.isnan(s_in) & (s_in > 0)
    s_in = np.where(hole, s_in, 0.0)
    e_lo = np.clip(np.floor(ax - s_in) + 1, 0, w).astype(np.int64)
    e_hi = np.clip(np.ceil(ax + s_in), 0, w).astype(np.int64)  # exclusive
    mask = np.zeros(shape, dtype=bool)
    for y in np.flatnonzero(x_hi > x_lo):  # fill each row's span, then cut the hole
        mask[y, x_lo[y]:x_hi[y]] = True
        if hole[y]:
            mask[y, e_lo[y]:e_hi[y]] = False
    return mask


def draw_footprint(kind: str, shape: Tuple[int, int]) -> np.ndarray:
    """Draw a synthetic footprint of one probe kind (used by tests and examples).

    ``'linear'``: the rectangle spanning 10-90 % of the width and 3-95 % of the height.
    ``'convex'``: apex at (W/2, -0.6 H), half angle 25 degrees, radii 0.65 H to 1.55 H.
    ``'phased'``: apex at (W/2, 0), half angle 40 degrees, radius 0.97 H.

    Args:
        kind (str): One of ``'linear'``, ``'convex'``, ``'phased'``.
        shape (tuple[int, int]): ``(H, W)``.

    Returns:
        np.ndarray: bool mask of shape ``(H, W)``.
    """
    check_choice('kind', kind, KINDS)
    h, w = shape
    if kind == 'linear':
        mask = np.zeros(shape, dtype=bool)
        mask[round(0.03 * h):round(0.95 * h), round(0.1 * w):round(0.9 * w)] = True
        return mask
    (ax, ay), half, (r0, r1) = _DEFAULT_SECTORS[kind]
    half = math.radians(half)
    return sector_mask(shape, (ax * w, ay * h), (-half, half), (r0 * h, r1 * h))
