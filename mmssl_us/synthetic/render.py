"""Render a :class:`KneeAnatomy` on the beam grid: tissue labels and echo properties per pixel.

The output feeds :mod:`.speckle` and :mod:`.echo`: expected echo power, scatterer density,
attenuation and the specular (coherent) amplitude of bright interfaces, all HxW on the beam
grid. A frame's motion moves the anatomy by whole pixels, so that the scatterers (drawn once
per patient on a padded grid) move with the tissue.
"""
from dataclasses import dataclass
from typing import Dict, Tuple

import cv2
import numpy as np

from .anatomy import LAYERS, TISSUE_ID, KneeAnatomy, eval_curve

LAYER_IDS = np.array([TISSUE_ID[t] for t in LAYERS], dtype=np.uint8)
CORTEX_THICKNESS = 0.012  # fraction of the imaged depth
MIN_FAT = 0.02


@dataclass
class BeamMaps:
    """Per-pixel maps on the beam grid (depth x lines).

    Args:
        tissue (np.ndarray): uint8 tissue ids (:data:`~.anatomy.TISSUES`).
        level_db (np.ndarray): Echo level in dB (tissue level plus fibrillar streaks), float64.
        density (np.ndarray): Scatterer density, float64.
        alpha (np.ndarray): One-way attenuation in dB per pixel of depth, float64.
        coherent (tuple[np.ndarray, np.ndarray, np.ndarray]): Specular reflectors as row
            indices, column indices and in-phase amplitudes.
    """
    tissue: np.ndarray
    level_db: np.ndarray
    density: np.ndarray
    alpha: np.ndarray
    coherent: Tuple[np.ndarray, np.ndarray, np.ndarray]


def boundaries(anat: KneeAnatomy, v: np.ndarray, recess_scale: float = 1.0) -> Dict:
    """Depths (fractions) of the layer boundaries at lateral positions ``v``.

    Returns:
        dict[str, np.ndarray]: ``'stack'`` (8 x len(v), the tops of LAYERS[1:]), the recess
        thickness ``'recess'`` and the bone mask ``'bone'`` (where the femur is).
    """
    c = anat.curves
    bend, centre = c['bone_bend']
    bone_top = eval_curve(c['bone'], v) + bend * (v - centre)**2
    cart = np.maximum(eval_curve(c['cartilage'], v), 0.0) if c['cartilage'][0] > 0 else 0 * v
    r = anat.recess
    d = v - r['centre']
    half = np.where(d < 0, r['left'], r['right'])
    shape = np.clip(1.0 - (d / half)**2, 0.0, 1.0)**r['power']
    wobble = 1.0 + r['ripple'] * np.sin(2 * np.pi * (3.0 * v + 7.0 * r['centre']))
    recess = r['thickness'] * recess_scale * shape * wobble
    # Thicknesses of the layers, stacked up from the bone (the recess lifts the tendon).
    pf = np.maximum(eval_curve(c['prefemoral'], v), 0.015)
    fp = np.maximum(eval_curve(c['fat_pad'], v), 0.015)
    tt = np.maximum(eval_curve(c['tendon'], v), 0.03)
    skin = eval_curve(c['skin'], v)
    tendon_top = bone_top - cart - pf - recess - fp - tt
    fat = np.maximum(tendon_top - skin, MIN_FAT)  # a thin patient: bone lies deeper instead
    stack = np.cumsum([skin, fat, tt, fp, recess, pf, cart, CORTEX_THICKNESS + 0 * v], axis=0)
    bone = (v >= anat.bone_span[0]) & (v <= anat.bone_span[1])
    stack[5:, ~bone] = 10.0  # no cartilage, cortex or bone: the fat pad goes on down
    return dict(stack=stack, recess=recess, bone=bone)


def fibril_field(rng: np.random.Generator, rows: int, cols: int) -> np.ndarray:
    """Streaks of unit variance, long across the beams and one pixel thin in depth.

    Returned mirrored and transposed, as :func:`render_beam` reads it: ``out[c, rows + k]``
    is the streak value ``k`` pixels (``|k|``, capped at ``rows - 1``) from a reference
    boundary in column ``c``, so a column's streaks are one contiguous slice.

    Args:
        rng (np.random.Generator): Source of randomness.
        rows (int): Depth samples.
        cols (int): Lines (padded).

    Returns:
        np.ndarray: float64 array of shape (cols, 2 * rows).
    """
    step = 8  # white noise on a grid 8 times coarser across, smoothed, then interpolated
    n = cols // step + 3
    coarse = rng.standard_normal((n, rows))  # lines x depth: built transposed
    k = np.exp(-0.5 * (np.arange(-4, 5) / 1.5)**2)
    coarse = cv2.sepFilter2D(coarse, cv2.CV_64F, np.ones(1), k / np.sqrt(np.sum(k * k)),
                             borderType=cv2.BORDER_REFLECT_101)
    field = cv2.resize(coarse, (rows, n * step), interpolation=cv2.INTER_LINEAR)[:cols]
    return field[:, np.minimum(np.abs(np.arange(-rows, rows)), rows - 1)]


def _band(depth: np.ndarray, rows: int, half: int) -> Tuple[np.ndarray, ...]:
    """Pixels within ``half`` rows of a curve (depth in pixels per column).

    Returns:
        tuple[np.ndarray, ...]: Row and column indices of the band's pixels inside the grid and
        their signed distance (pixels) to the curve.
    """
    centre = np.floor(depth).astype(np.int64)
    offsets = np.arange(-half, half + 1)[:, None]
    r = centre[None, :] + offsets
    c = np.broadcast_to(np.arange(depth.size), r.shape)
    dist = r + 0.5 - depth[None, :]
    ok = (r >= 0) & (r < rows)
    return r[ok], c[ok], dist[ok]


def render_beam(anat: KneeAnatomy, beam_shape: Tuple[int, int], shift: Tuple[int, int] = (0, 0),
                recess_scale: float = 1.0, fibrils: np.ndarray = None,
                pad: int = 0) -> BeamMaps:
    """Render the anatomy, moved by ``shift`` pixels, on a beam grid.

    Args:
        anat (KneeAnatomy): The patient's anatomy.
        beam_shape (tuple[int, int]): Depth samples and lines.
        shift (tuple[int, int]): Motion of the anatomy (down, right) in pixels.
            Defaults to (0, 0).
        recess_scale (float): Multiplies the effusion's thickness. Defaults to 1.0.
        fibrils (np.ndarray, optional): :func:`fibril_field` for ``(rows, lines + 2 * pad)``;
            None gives tissue without streaks. Defaults to None.
        pad (int): Lateral padding of ``fibrils``. Defaults to 0.

    Returns:
        BeamMaps: The maps.
    """
    rows, lines = beam_shape
    dz, dx = shift
    col = np.arange(lines)
    v = (col - dx + 0.5) / lines
    b = boundaries(anat, v, recess_scale)
    stack = b['stack']
    # Layer index = number of boundaries at or above a pixel: mark the first row below each
    # boundary in every column, then count down the columns.
    first = np.clip(np.ceil(stack * rows + (dz - 0.5)), 0, rows).astype(np.int64)
    marks = np.bincount((first * lines + col).ravel(), minlength=(rows + 1) * lines)
    layer = np.cumsum(marks.reshape(rows + 1, lines)[:rows], axis=0, dtype=np.uint8)
    tissue = LAYER_IDS[layer]
    for depth, slope, start, length in anat.septa:
        line = stack[0] + (depth + slope * (v - 0.5)) * (stack[1] - stack[0])
        r, c, dist = _band(line * rows + dz, rows, 1)
        hit = (np.abs(dist) < 0.6) & (v[c] >= start) & (v[c] <= start + length)
        r, c = r[hit], c[hit]
        fat = tissue[r, c] == TISSUE_ID['fat']
        tissue[r[fat], c[fat]] = TISSUE_ID['septum']
    if anat.recess['thickness'] <= 0:  # collapsed recess: a thin dark line between fat pads
        r, c, dist = _band(stack[3] * rows + dz, rows, 1)
        r, c = r[np.abs(dist) < 0.6], c[np.abs(dist) < 0.6]
        pad_px = tissue[r, c] == TISSUE_ID['fat_pad']
        tissue[r[pad_px], c[pad_px]] = TISSUE_ID['collapsed']
    level = anat.reflect_db[tissue]
    if fibrils is not None:
        # Streaks parallel to the top of the tendon (mirrored above it), strongest in tendon:
        # column c reads its slice of the mirrored field starting at rows - first[1][c].
        windows = np.lib.stride_tricks.sliding_window_view(fibrils, rows, axis=1)
        streaks = windows[col - dx + pad, rows - first[1]].T
        level += anat.streak_db[tissue] * streaks
    # Specular interfaces, weaker where they meet the beam obliquely.
    spec = []
    for k, (name, depth) in enumerate((('tendon_top', stack[1]), ('tendon_bottom', stack[2]),
                                       ('cortex', stack[6]))):
        amp = anat.specular[name] * (1.0 + (np.gradient(depth) * rows)**2)**-4.0
        if name == 'cortex':
            amp = amp * b['bone']
        if not amp.any():
            continue
        if fibrils is not None:  # brightness varies along the interface
            amp = amp * np.exp(0.35 * fibrils[col - dx + pad, rows + k])
        width = 1.2 if name == 'cortex' else 0.7  # pixels (at any size: the PSF scales)
        r, c, dist = _band(depth * rows + dz, rows, 4)
        spec.append((r, c, amp[c] * np.exp(-0.5 * (dist / width)**2)))
    coherent = tuple(np.concatenate(a) for a in zip(*spec)) if spec else (
        np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0))
    density = anat.density[tissue]
    alpha = anat.alpha[tissue] * (256.0 / rows)
    return BeamMaps(tissue, level, density, alpha, coherent)
