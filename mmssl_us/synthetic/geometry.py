"""Probe geometry: the footprint of the scan in the image and the beam-grid-to-image mapping.

Echoes are simulated on a rectangular beam grid (rows = depth samples, columns = scan lines).
A linear probe's lines are parallel, so the grid is pasted into the image as a rectangle. A
convex probe's lines fan out from an apex above the image, so the grid is scan-converted into
an annular sector (radii ``r0`` to ``r1``, angles within ``half_angle`` of vertical). Pixels
outside the footprint are black, as on a scanner's screen.
"""
from dataclasses import dataclass
from functools import lru_cache
from typing import Tuple

import cv2
import numpy as np

from ..validate import check_choice

KINDS = ('linear', 'convex')
# Share of convex images when the kind is 'random' (knee recesses are mostly scanned linear).
P_CONVEX = 0.3


@dataclass(frozen=True)
class ProbeGeometry:
    """Where the beam grid lands in the image.

    Args:
        kind (str): 'linear' or 'convex'.
        size (tuple[int, int]): Image height and width.
        beam_shape (tuple[int, int]): Depth samples and lines of the beam grid.
        top (int): First image row of the footprint. Defaults to 0.
        left (int): First image column of a linear footprint. Defaults to 0.
        apex (tuple[float, float]): Convex apex (row, column); the row is negative (above the
            image). Defaults to (0.0, 0.0).
        radii (tuple[float, float]): Convex inner and outer radius in pixels. Defaults to (0, 0).
        half_angle (float): Convex half opening angle in radians. Defaults to 0.0.
    """
    kind: str
    size: Tuple[int, int]
    beam_shape: Tuple[int, int]
    top: int = 0
    left: int = 0
    apex: Tuple[float, float] = (0.0, 0.0)
    radii: Tuple[float, float] = (0.0, 0.0)
    half_angle: float = 0.0


def sample_geometry(rng: np.random.Generator, size: Tuple[int, int],
                    kind: str = 'random') -> ProbeGeometry:
    """Draw a probe geometry. The same number of values is drawn whatever ``kind`` is.

    Args:
        rng (np.random.Generator): Source of randomness.
        size (tuple[int, int]): Image height and width.
        kind (str): 'linear', 'convex' or 'random' (convex with probability 0.3).
            Defaults to 'random'.

    Returns:
        ProbeGeometry: The drawn geometry.
    """
    check_choice('geometry', kind, ('random', ) + KINDS)
    h, w = size
    u = rng.random(5)
    if kind == 'random':
        kind = 'convex' if u[0] < P_CONVEX else 'linear'
    if kind == 'linear':
        top = int(round(0.06 * h * u[1]))
        left = int(round(0.08 * w * u[2]))
        right = int(round(0.08 * w * u[3]))
        return ProbeGeometry('linear', (h, w), (h - top, w - left - right), top=top, left=left)
    top = int(round(0.05 * h * u[1]))
    r0 = h * (0.35 + 0.55 * u[2])
    r1 = r0 + (h - top) - 0.5
    apex = (float(top - 0.5 - r0), float((w - 1) / 2 + 0.03 * w * (2 * u[3] - 1)))
    half = min(np.arcsin(min(0.95, (0.8 + 0.25 * u[4]) * 0.5 * w / r1)), np.radians(38.0))
    return ProbeGeometry('convex', (h, w), (h - top, w), top=top, apex=apex,
                         radii=(float(r0), float(r1)), half_angle=float(half))


# The polar maps are smooth, so they are computed exactly every STEP pixels and bilinearly
# interpolated in between (error below 0.02 pixel for the radii sampled here).
STEP = 4


@lru_cache(maxsize=8)
def _fine_coords(h: int, w: int) -> Tuple[np.ndarray, np.ndarray]:
    """Coordinates of every image pixel on the coarse grid (y / STEP, x / STEP), float32."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float32) / STEP
    return x, y


@lru_cache(maxsize=64)
def _convex_maps(geom: ProbeGeometry) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Beam-grid coordinates of every image pixel, and the footprint (cached per geometry)."""
    h, w = geom.size
    rows, lines = geom.beam_shape
    (ay, ax), (r0, r1) = geom.apex, geom.radii
    y = np.arange(0, h - 1 + STEP, STEP, dtype=np.float64)[:, None]
    x = np.arange(0, w - 1 + STEP, STEP, dtype=np.float64)[None, :]
    r = np.hypot(y - ay, x - ax)
    theta = np.arctan2(x - ax, y - ay)
    coarse_y = ((r - r0) / (r1 - r0) * rows - 0.5).astype(np.float32)
    coarse_x = ((theta + geom.half_angle) / (2 * geom.half_angle) * lines - 0.5).astype(np.float32)
    fx, fy = _fine_coords(h, w)
    map_x = cv2.remap(coarse_x, fx, fy, cv2.INTER_LINEAR)
    map_y = cv2.remap(coarse_y, fx, fy, cv2.INTER_LINEAR)
    # Inside: radius within [r0, r1] and angle within +-half_angle, i.e. the beam grid's extent.
    inside = ((map_y >= -0.5) & (map_y <= rows - 0.5) & (map_x >= -0.5) & (map_x <= lines - 0.5))
    for a in (map_x, map_y, inside):
        a.flags.writeable = False
    return map_x, map_y, inside


def footprint(geom: ProbeGeometry) -> np.ndarray:
    """Boolean HxW mask of the pixels the probe images."""
    if geom.kind == 'convex':
        return _convex_maps(geom)[2].copy()
    out = np.zeros(geom.size, dtype=bool)
    rows, lines = geom.beam_shape
    out[geom.top:geom.top + rows, geom.left:geom.left + lines] = True
    return out


def to_image(beam: np.ndarray, geom: ProbeGeometry, nearest: bool = False) -> np.ndarray:
    """Place a beam-grid array into the image, zero outside the footprint.

    Args:
        beam (np.ndarray): Array of shape ``geom.beam_shape`` (uint8 or float32).
        geom (ProbeGeometry): The geometry.
        nearest (bool): Nearest-neighbour scan conversion (labels) instead of bilinear
            (grey levels). Defaults to False.

    Returns:
        np.ndarray: Array of shape ``geom.size`` and the dtype of ``beam``.
    """
    if tuple(beam.shape) != tuple(geom.beam_shape):
        raise ValueError(f'beam has shape {beam.shape}, geometry expects {geom.beam_shape}')
    if geom.kind == 'linear':
        out = np.zeros(geom.size, dtype=beam.dtype)
        rows, lines = geom.beam_shape
        out[geom.top:geom.top + rows, geom.left:geom.left + lines] = beam
        return out
    map_x, map_y, inside = _convex_maps(geom)
    interp = cv2.INTER_NEAREST if nearest else cv2.INTER_LINEAR
    out = cv2.remap(beam, map_x, map_y, interp, borderMode=cv2.BORDER_REPLICATE)
    out[~inside] = 0
    return out
