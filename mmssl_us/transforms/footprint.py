"""Estimate the imaged footprint of a B-mode frame and fit a probe model to it.

The probe kinds and their rasters are in :mod:`.geometry`.
"""
import math
from typing import Optional, Tuple

import cv2
import numpy as np

from ..validate import check_choice
from ._utils import any_channel_above
from .geometry import sector_mask


def foreground(img: np.ndarray, threshold: int) -> np.ndarray:
    """uint8 mask, non-zero where a pixel is brighter than ``threshold`` in any channel."""
    return any_channel_above(img, threshold)


def estimate_sector_mask(img: np.ndarray, threshold: int = 0,
                         max_notch: float = 0.001) -> np.ndarray:
    """Estimate the imaged region of a frame from its non-black footprint.

    Steps: pixels brighter than ``threshold`` (in any channel); the largest connected
    region, holes filled (dark fluid inside stays in); its convex hull, which also fills the
    small dark notches speckle cuts into the border; minus every notch between hull and
    region larger than ``max_notch`` of the hull's area. The last step removes what the
    hull adds above the concave face of a convex probe, black boxes in the corners and
    large dark areas open to the border, so the mask does not claim black surround.

    Args:
        img (np.ndarray): uint8 image, HxW or HxWxC.
        threshold (int): Largest grey level counted as background. Defaults to 0.
        max_notch (float): Largest notch kept, as a fraction of the hull's area.
            Defaults to 0.001.

    Returns:
        np.ndarray: bool mask of shape ``(H, W)``.
    """
    contours = cv2.findContours(foreground(img, threshold), cv2.RETR_EXTERNAL,
                                cv2.CHAIN_APPROX_NONE)[-2]
    if not contours:
        raise ValueError(f'no pixel is brighter than threshold={threshold}: '
                         'the image shows no imaged region')
    outline = max(contours, key=lambda c: (cv2.contourArea(c), len(c)))
    region = np.zeros(img.shape[:2], dtype=np.uint8)
    cv2.drawContours(region, [outline], -1, 1, thickness=cv2.FILLED)
    hull = np.zeros_like(region)
    cv2.fillConvexPoly(hull, cv2.convexHull(outline), 1)
    notches = cv2.findContours(hull - region, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)[-2]
    limit = max_notch * float(cv2.countNonZero(hull))
    large = [c for c in notches if cv2.contourArea(c) > limit]
    if large:
        cv2.drawContours(hull, large, -1, 0, thickness=cv2.FILLED)
        hull |= region  # a notch's outline pixels may touch the region
    return hull.view(bool)  # 0/1 bytes: a bool view without a copy


def _line(rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Least-squares ``col = b * row + a``; returns ``[b, a]`` (as np.polyfit)."""
    rm, cm = rows.mean(), cols.mean()
    var = ((rows - rm)**2).sum()
    b = ((rows - rm) * (cols - cm)).sum() / var if var > 0 else 0.0
    return np.array([b, cm - b * rm])


def _fit_edge(rows: np.ndarray, cols: np.ndarray) -> Optional[np.ndarray]:
    """Robust line ``col = b * row + a`` through a side edge (None if too few rows)."""
    if len(rows) < 10:
        return None
    lo, hi = np.percentile(rows, [25, 75])
    keep = (rows >= lo) & (rows <= hi)
    for _ in range(3):
        if keep.sum() < 5:
            return None
        coef = _line(rows[keep], cols[keep])
        keep = np.abs(coef[0] * rows + coef[1] - cols) <= 1.5
    return coef if keep.sum() >= 10 else None


def fit_sector(mask: np.ndarray, kind: str) -> Tuple[Tuple[float, float], Tuple[float, float],
                                                     Tuple[float, float]]:
    """Fit a ``'convex'`` or ``'phased'`` sector to a footprint mask.

    The two side edges are fitted as straight lines (rows where the edge touches the image
    border are ignored); the apex is their intersection, the angles their directions, the
    outer radius the farthest footprint pixel and the inner radius the nearest one
    (``'convex'``) or 0 (``'phased'``).

    Args:
        mask (np.ndarray): bool footprint, e.g. from :func:`estimate_sector_mask`.
        kind (str): ``'convex'`` or ``'phased'``.

    Returns:
        tuple: ``apex (x, y)``, ``angles (left, right)`` in radians, ``radii (in, out)``.
        Raises ValueError when the sides are not two diverging straight edges.
    """
    check_choice('kind', kind, ('convex', 'phased'))
    h, w = mask.shape
    contours = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL,
                                cv2.CHAIN_APPROX_NONE)[-2]
    if not contours:
        raise ValueError('the footprint is empty')
    pts = np.concatenate(contours).reshape(-1, 2).astype(np.int64)
    left, right = np.full(h, w, dtype=np.int64), np.full(h, -1, dtype=np.int64)
    np.minimum.at(left, pts[:, 1], pts[:, 0])
    np.maximum.at(right, pts[:, 1], pts[:, 0])
    rows = np.flatnonzero(right >= 0)
    left, right = left[rows], right[rows]
    # The true edge lies half a pixel outside the first / last pixel centre inside.
    lcoef = _fit_edge(rows[left > 0], left[left > 0] - 0.5)
    rcoef = _fit_edge(rows[right < w - 1], right[right < w - 1] + 0.5)
    if lcoef is None or rcoef is None or rcoef[0] - lcoef[0] < 1e-3:
        raise ValueError('the footprint has no two diverging straight side edges')
    ay = (lcoef[1] - rcoef[1]) / (rcoef[0] - lcoef[0])
    ax = float(lcoef[0] * ay + lcoef[1])
    r = np.hypot(pts[:, 0] - ax, pts[:, 1] - ay)  # extremes lie on the outline
    r_in = float(r.min()) if kind == 'convex' else 0.0
    return ((ax, float(ay)), (math.atan(lcoef[0]), math.atan(rcoef[0])), (r_in, float(r.max())))


def fit_footprint(mask: np.ndarray, kind: str, min_iou: float = 0.9) -> np.ndarray:
    """Replace an estimated footprint by the model of one probe kind fitted to it.

    ``'auto'`` returns ``mask``; ``'linear'`` the rectangle spanned by the rows and the
    columns that are at least half as full as the fullest (thin attachments such as scale
    bars drop out); ``'convex'`` and ``'phased'`` the sector from :func:`fit_sector`, which
    must overlap ``mask`` with an intersection over union of at least ``min_iou``
    (else ValueError).

    Args:
        mask (np.ndarray): bool footprint.
        kind (str): ``'auto'``, ``'linear'``, ``'convex'`` or ``'phased'``.
        min_iou (float): Smallest accepted overlap of a sector model. Defaults to 0.9.

    Returns:
        np.ndarray: bool mask of the same shape.
    """
    if kind == 'auto':
        return mask
    if kind == 'linear':  # rows and columns at least half as full as the fullest
        row_fill, col_fill = mask.sum(axis=1), mask.sum(axis=0)
        rows = np.flatnonzero(row_fill >= 0.5 * row_fill.max())
        cols = np.flatnonzero(col_fill >= 0.5 * col_fill.max())
        out = np.zeros_like(mask)
        if row_fill.max() > 0:
            out[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1] = True
        return out
    apex, angles, radii = fit_sector(mask, kind)
    model = sector_mask(mask.shape, apex, angles, radii)
    iou = np.count_nonzero(model & mask) / max(np.count_nonzero(model | mask), 1)
    if iou < min_iou:
        raise ValueError(f'the fitted {kind} sector covers the footprint poorly (IoU {iou:.2f})')
    return model


def largest_square(mask: np.ndarray) -> Tuple[int, int, int, int]:
    """``(top, left, side, side)`` of the largest odd-sided square of pixels inside ``mask``.

    Found with the chessboard distance transform; among equal squares, the first centre in
    raster order.

    Args:
        mask (np.ndarray): uint8 mask (non-zero inside), not empty.

    Returns:
        tuple[int, int, int, int]: The square as ``(top, left, height, width)``.
    """
    padded = cv2.copyMakeBorder(mask, 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=0)
    dist = cv2.distanceTransform(padded, cv2.DIST_C, 3)
    _, d, _, (cx, cy) = cv2.minMaxLoc(dist)
    half = int(round(d)) - 1
    return cy - 1 - half, cx - 1 - half, 2 * half + 1, 2 * half + 1
