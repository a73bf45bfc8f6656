"""Seeded synthetic knee-recess B-mode images with exact masks.

A *patient* (one seed) fixes the probe geometry, the anatomy, the scanner settings and a
field of scatterers; a *frame* of that patient moves the anatomy by a few pixels, changes the
effusion's size a little and partly renews the speckle, as consecutive frames of a sweep do.
Everything is drawn from ``np.random.default_rng``: the patient from ``default_rng(seed)``
and frame ``f`` from ``default_rng([seed, f])``, so any image can be rebuilt on its own.
"""
from dataclasses import dataclass
from functools import lru_cache
from typing import Tuple, Union

import cv2
import numpy as np

from .anatomy import TISSUE_ID, KneeAnatomy, sample_anatomy
from .echo import log_compress, tgc_db, two_way_loss_db
from .geometry import ProbeGeometry, footprint, sample_geometry, to_image
from .render import fibril_field, render_beam
from .speckle import draw_scatterers, gaussian_psf, speckle_intensity

# Bump whenever the images for a given seed change; the dataset manifest records it.
# 1.1: patients are split by the seeded sha256 ranking of mmssl_us.data.splits (1.0 used a
# seeded numpy permutation), so a seed puts other patients in train/val/test.
GENERATOR_VERSION = '1.1'
MIN_SIZE = 32


@dataclass
class SyntheticSample:
    """One generated frame.

    Args:
        image (np.ndarray): uint8 HxW B-mode image, 0 outside the footprint.
        mask (np.ndarray): uint8 HxW, 1 on the effusion (distended recess), else 0.
        footprint (np.ndarray): bool HxW, the imaged region.
        tissue (np.ndarray): uint8 HxW tissue ids (:data:`~.anatomy.TISSUES`).
        geometry (ProbeGeometry): The probe geometry.
    """
    image: np.ndarray
    mask: np.ndarray
    footprint: np.ndarray
    tissue: np.ndarray
    geometry: ProbeGeometry


@dataclass(frozen=True)
class _Patient:
    """What the frames of one patient share (see :func:`_patient`)."""
    geometry: ProbeGeometry
    anatomy: KneeAnatomy
    scatterers: tuple
    fibrils: np.ndarray
    pad: int
    psf: tuple
    smooth: tuple  # display smoothing sigmas (depth, lateral), pixels
    echo: tuple  # (dynamic range, white level, TGC (rows x 1), receiver noise power)


def derive_seed(*keys: int) -> int:
    """A 64-bit seed derived from integers (e.g. dataset seed, patient index), stable across
    machines and numpy versions (numpy's SeedSequence hashing)."""
    if not keys or any(int(k) < 0 for k in keys):
        raise ValueError(f'derive_seed needs non-negative integers, got {keys!r}')
    hi, lo = np.random.SeedSequence([int(k) for k in keys]).generate_state(2, np.uint32)
    return (int(hi) << 32) | int(lo)


def validate_args(seed: int, size: Union[int, Tuple[int, int]],
                  geometry: str) -> Tuple[int, int]:
    """Check the arguments shared by the generator and the writer; return ``(height, width)``."""
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f'seed must be a non-negative integer, got {seed!r}')
    if isinstance(size, (int, np.integer)):
        size = (size, size)
    size = tuple(int(s) for s in size)
    if len(size) != 2 or min(size) < MIN_SIZE:
        raise ValueError(f'size must be (height, width) of at least {MIN_SIZE}, got {size!r}')
    if geometry not in ('random', 'linear', 'convex'):
        raise ValueError(f"geometry must be 'random', 'linear' or 'convex', got {geometry!r}")
    return size


@lru_cache(maxsize=8)
def _patient(seed: int, size: Tuple[int, int], geometry: str) -> _Patient:
    """Everything a patient's frames share, drawn from ``default_rng(seed)`` (cached)."""
    rng = np.random.default_rng(seed)
    geom = sample_geometry(rng, size, geometry)
    anat = sample_anatomy(rng)
    rows, lines = geom.beam_shape
    pad = max(1, int(round(0.02 * max(size))))
    scatterers = draw_scatterers(rng, (rows + 2 * pad, lines + 2 * pad))
    fibrils = fibril_field(rng, rows, lines + 2 * pad)
    psf = gaussian_psf(rows * rng.uniform(0.0025, 0.0035), lines * rng.uniform(0.012, 0.02))
    soft = anat.alpha[TISSUE_ID['skin']] * 256.0 / rows
    tgc = tgc_db(rows, 2 * soft * rng.uniform(0.8, 1.1), rng.uniform(-2.0, 2.0, 4))
    echo = (rng.uniform(54.0, 64.0), rng.uniform(2.0, 6.0), tgc, 10**(rng.uniform(-84, -76) / 10))
    smooth = (rows / 256 * rng.uniform(0.3, 0.5), lines / 256 * rng.uniform(1.2, 2.0))
    for a in scatterers + (fibrils, ):
        a.flags.writeable = False
    return _Patient(geom, anat, scatterers, fibrils, pad, psf, smooth, echo)


def generate_frame(seed: int, frame: int = 0, size: Union[int, Tuple[int, int]] = (256, 256),
                   geometry: str = 'random') -> SyntheticSample:
    """Generate frame ``frame`` of the patient ``seed``.

    Args:
        seed (int): Patient seed (non-negative).
        frame (int): Frame index (non-negative). Defaults to 0.
        size (int | tuple[int, int]): Image height and width (>= 32). Defaults to (256, 256).
        geometry (str): 'random', 'linear' or 'convex'. Defaults to 'random'.

    Returns:
        SyntheticSample: Image, mask, footprint, tissue map and geometry.
    """
    size = validate_args(seed, size, geometry)
    if isinstance(frame, bool) or not isinstance(frame, (int, np.integer)) or frame < 0:
        raise ValueError(f'frame must be a non-negative integer, got {frame!r}')
    p = _patient(int(seed), size, geometry)
    rows, lines = p.geometry.beam_shape
    rng = np.random.default_rng([int(seed), int(frame)])
    dz, dx = rng.integers(-p.pad, p.pad + 1, 2)
    roll = rng.integers(0, (rows, lines), (2, 2))
    recess_scale, rho, gain_jitter = rng.uniform([0.85, 0.6, -1.5], [1.15, 0.9, 1.5])
    # The scatterers move with the tissue (crop of the patient's padded field) and partly
    # renew: the new part reads the patient's field at a random circular offset, which is
    # uncorrelated with it (white noise) and costs no new draws.
    crop = (slice(p.pad - dz, p.pad - dz + rows), slice(p.pad - dx, p.pad - dx + lines))
    i, q, u = (a[crop] for a in p.scatterers)
    keep = np.sqrt(1.0 - rho * rho)
    scat = (rho * i + keep * np.roll(q, roll[0], (0, 1)),
            rho * q + keep * np.roll(i, roll[1], (0, 1)), u)

    maps = render_beam(p.anatomy, (rows, lines), (dz, dx), recess_scale, p.fibrils, p.pad)
    loss = two_way_loss_db(maps.alpha)
    r, c, amp = maps.coherent
    coherent = (r, c, amp * np.exp(loss[r, c] * (-np.log(10.0) / 20.0)))
    dyn_range, white, tgc, noise = p.echo
    intensity = speckle_intensity(maps.level_db - loss, maps.density, scat, p.psf, coherent,
                                  noise)
    # Display smoothing (the scanner's video filter / downsampling to the display grid).
    intensity = cv2.GaussianBlur(intensity, (0, 0), sigmaX=p.smooth[1], sigmaY=p.smooth[0])
    beam_img = log_compress(intensity, white + gain_jitter, dyn_range, tgc)
    image = to_image(beam_img, p.geometry)
    tissue = to_image(maps.tissue, p.geometry, nearest=True)
    mask = (tissue == TISSUE_ID['recess']).astype(np.uint8)
    return SyntheticSample(image, mask, footprint(p.geometry), tissue, p.geometry)


def generate_image(seed: int, size: Union[int, Tuple[int, int]] = (256, 256),
                   geometry: str = 'random') -> Tuple[np.ndarray, np.ndarray]:
    """Generate one image and its mask (frame 0 of patient ``seed``).

    Args:
        seed (int): Seed (non-negative).
        size (int | tuple[int, int]): Image height and width (>= 32). Defaults to (256, 256).
        geometry (str): 'random' (linear, or convex with probability 0.3), 'linear' or
            'convex'. Defaults to 'random'.

    Returns:
        tuple[np.ndarray, np.ndarray]: uint8 HxW image and uint8 HxW mask (1 = effusion).
    """
    sample = generate_frame(seed, 0, size, geometry)
    return sample.image, sample.mask
