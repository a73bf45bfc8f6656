"""The echo chain after the tissue: depth attenuation, time-gain compensation, log compression.

Attenuation is integrated along each beam (each column of the beam grid), so a strongly
attenuating structure (bone) shadows everything below it and a weakly attenuating one
(fluid) brightens what lies below it (posterior enhancement). The scanner's time-gain
compensation (TGC) adds gain with depth; it is set for average soft tissue and a few slider
knobs, so it never cancels the attenuation exactly. Log compression maps a window of
``dynamic_range`` dB below ``gain_db`` to grey levels 0..255.
"""
from typing import Sequence

import numpy as np

from ..validate import check_float, check_int


def two_way_loss_db(alpha_db: np.ndarray) -> np.ndarray:
    """Two-way attenuation (dB) accumulated down each beam.

    Args:
        alpha_db (np.ndarray): One-way attenuation per pixel of depth (dB / pixel, >= 0), HxW,
            depth along axis 0.

    Returns:
        np.ndarray: Loss in dB reaching each pixel and coming back: ``2 * sum`` of ``alpha_db``
        over the pixels above it plus half of its own (the echo comes from its middle), HxW.
    """
    alpha_db = np.asarray(alpha_db, dtype=np.float64)
    if alpha_db.ndim != 2:
        raise ValueError(f'alpha_db must be 2-D (depth x lines), got shape {alpha_db.shape}')
    if np.any(alpha_db < 0):
        raise ValueError(f'alpha_db must be >= 0, got a minimum of {alpha_db.min()!r}')
    one_way = np.cumsum(alpha_db, axis=0) - 0.5 * alpha_db
    return 2.0 * one_way


def tgc_db(n_rows: int, slope_db: float, knobs_db: Sequence[float] = ()) -> np.ndarray:
    """Time-gain compensation curve: a linear ramp plus slider knobs.

    Args:
        n_rows (int): Number of depth samples.
        slope_db (float): Gain added per pixel of depth (dB / pixel).
        knobs_db (Sequence[float]): Extra gain (dB) at knobs spread evenly from the top to the
            bottom row, linearly interpolated in between. Defaults to () (no knobs).

    Returns:
        np.ndarray: Gain in dB per row, shape (n_rows, 1) so that it broadcasts over lines.
    """
    check_int('n_rows', n_rows, low=1)
    z = np.arange(n_rows, dtype=np.float64)
    gain = slope_db * z
    knobs = np.asarray(knobs_db, dtype=np.float64)
    if knobs.size == 1:
        gain = gain + knobs[0]
    elif knobs.size > 1:
        gain = gain + np.interp(z, np.linspace(0, n_rows - 1, knobs.size), knobs)
    return gain[:, None]


def log_compress(intensity: np.ndarray,
                 gain_db: float = 0.0,
                 dynamic_range: float = 50.0,
                 gain_map_db: np.ndarray = None) -> np.ndarray:
    """Log-compress linear intensities into 8-bit grey levels.

    A pixel of ``10 log10(intensity) + gain_map_db`` equal to ``gain_db`` maps to 255, one
    ``dynamic_range`` dB lower maps to 0, linearly in between, clipped outside.

    Args:
        intensity (np.ndarray): Linear echo intensity (>= 0).
        gain_db (float): Level (dB) shown as white. Defaults to 0.0.
        dynamic_range (float): Width of the displayed window in dB (> 0). Defaults to 50.0.
        gain_map_db (np.ndarray, optional): Gain added per pixel before mapping (e.g. TGC),
            broadcastable to ``intensity``. Defaults to None.

    Returns:
        np.ndarray: uint8 image of the same shape.
    """
    check_float('dynamic_range', dynamic_range, low=0, low_open=True)  # dB
    grey = np.log(np.maximum(intensity, 1e-30)) * (10.0 / np.log(10.0) * 255.0 / dynamic_range)
    offset = (dynamic_range - gain_db) * (255.0 / dynamic_range)
    if gain_map_db is not None:
        offset = offset + np.asarray(gain_map_db) * (255.0 / dynamic_range)
    grey += offset + 0.5  # + 0.5 and truncation: round to nearest
    return np.clip(grey, 0.0, 255.0).astype(np.uint8)
