"""Seeded synthetic apical four-chamber echocardiography clips with exact left-ventricle traces.

A *patient* (one seed) fixes a phased-array sector (apex at the top, as in EchoNet-Dynamic),
the four chambers (left ventricle on the right of the image, right ventricle on the left, the
atria below them, myocardium around the ventricles), the scanner settings and a scatterer
field. Over the clip the left ventricle contracts and relaxes with a cardiac cycle of
``period`` frames: its length and width shrink from end-diastole (largest) to end-systole
(smallest) and back, the right ventricle follows with a smaller stroke. Each frame runs the
knee generator's physics on the beam grid: Rayleigh speckle from the PSF-filtered scatterers
(:mod:`.speckle`, partly renewed each frame, faster in blood), two-way depth attenuation, TGC
and log compression (:mod:`.echo`), then scan conversion into the sector (:mod:`.geometry`).

The left ventricle's cavity in LV coordinates (``u`` from the apex along the long axis, 0..L;
``v`` across it) is ``|v| <= W sqrt(1 - ((L - u) / L)^2)``: rounded at the apex, widest at the
mitral plane. :func:`lv_tracing` writes that shape as EchoNet-Dynamic traces it (the long axis,
then chords across the cavity perpendicular to it), so the converter's polygon is the cavity.
"""
from dataclasses import dataclass
from functools import lru_cache
from typing import Tuple

import cv2
import numpy as np

from ..validate import check_int
from .echo import log_compress, tgc_db, two_way_loss_db
from .geometry import ProbeGeometry, to_image
from .speckle import draw_scatterers, gaussian_psf, speckle_intensity

__all__ = ['HEART_VERSION', 'Heart', 'sample_heart', 'lv_shape', 'lv_tracing', 'render_frame',
           'cardiac_phase']

HEART_VERSION = '1.0'
#: tissue ids of the heart model: (echo level dB, scatterer density, attenuation vs tissue)
_TISSUES = dict(outside=(-50.0, 1.0, 1.0), myocardium=(-36.0, 1.0, 1.1),
                blood=(-85.0, 0.3, 0.2), pericardium=(-22.0, 1.0, 1.3))
_ID = {name: i for i, name in enumerate(_TISSUES)}
N_CHORDS = 20  # EchoNet-Dynamic traces 20 chords (and the long axis) per frame


@dataclass(frozen=True)
class Heart:
    """What the frames of one patient share (all lengths in pixels of the image)."""
    geometry: ProbeGeometry
    lv_apex: Tuple[float, float]  # (row, column)
    lv_angle: float  # tilt of the long axis from the vertical, radians (positive: to the right)
    lv_length: float  # at end-diastole
    lv_width: float  # half width at the mitral plane, end-diastole
    stroke: Tuple[float, float]  # fractional shortening of length and width at end-systole
    wall: float  # myocardium thickness
    rv: Tuple[float, float, float, float]  # apex row, apex column, length, half width
    period: float  # frames per cardiac cycle
    phase0: float  # cycle phase of frame 0 (0: end-diastole)
    psf: tuple
    echo: tuple  # (dynamic range, white level, TGC, receiver noise power)
    scatterers: tuple
    levels: np.ndarray
    density: np.ndarray
    alpha: np.ndarray


def _sector(rng: np.random.Generator, size: Tuple[int, int]) -> ProbeGeometry:
    """A phased-array sector: a small apex radius just above the top row, about 70 degrees."""
    h, w = size
    top = int(round(0.02 * h))
    r0 = 0.03 * h
    r1 = r0 + (h - top) - 0.5
    apex = (float(top - 0.5 - r0), float((w - 1) / 2))
    half = float(np.radians(rng.uniform(33.0, 38.0)))
    return ProbeGeometry('convex', (h, w), (h - top, w), top=top, apex=apex,
                         radii=(float(r0), float(r1)), half_angle=half)


@lru_cache(maxsize=8)
def sample_heart(seed: int, size: Tuple[int, int] = (112, 112),
                 period: float = 0.0) -> Heart:
    """The patient ``seed``: sector, chambers, cycle, scanner and scatterers (cached)."""
    rng = np.random.default_rng(seed)
    h, w = size
    geom = _sector(rng, size)
    u = rng.uniform(0, 1, 12)
    lv_apex = (h * (0.10 + 0.05 * u[0]), w * (0.56 + 0.06 * u[1]))
    lv_length = h * (0.48 + 0.10 * u[2])
    lv_width = h * (0.13 + 0.04 * u[3])
    stroke = (0.10 + 0.08 * u[4], 0.18 + 0.12 * u[5])  # EF roughly 35-70 %
    wall = h * (0.045 + 0.02 * u[6])
    rv = (h * (0.18 + 0.05 * u[7]), w * (0.28 + 0.05 * u[8]), h * (0.36 + 0.08 * u[9]),
          h * (0.09 + 0.03 * u[10]))
    period = float(period) if period else float(rng.uniform(16.0, 24.0))
    rows, lines = geom.beam_shape
    psf = gaussian_psf(rows * rng.uniform(0.005, 0.008), lines * rng.uniform(0.012, 0.02))
    levels = np.array([t[0] for t in _TISSUES.values()]) + rng.uniform(-2, 2, len(_TISSUES))
    density = np.array([t[1] for t in _TISSUES.values()])
    alpha = np.array([t[2] for t in _TISSUES.values()]) * rng.uniform(20, 34) / (2 * rows)
    tgc = tgc_db(rows, 2 * alpha[_ID['outside']] * rng.uniform(0.8, 1.05),
                 rng.uniform(-2.0, 2.0, 4))
    echo = (rng.uniform(50.0, 60.0), rng.uniform(-28.0, -22.0), tgc,
            10**(rng.uniform(-96, -90) / 10))
    scatterers = draw_scatterers(rng, (rows, lines))
    for a in scatterers:
        a.flags.writeable = False
    return Heart(geom, lv_apex, float(rng.uniform(-0.12, 0.05)), lv_length, lv_width, stroke,
                 wall, rv, period, float(u[11]), psf, echo, scatterers, levels, density, alpha)


def cardiac_phase(heart: Heart, frame: int) -> float:
    """Contraction of frame ``frame``: 0 at end-diastole, 1 at end-systole (a smooth cycle)."""
    t = (frame / heart.period + heart.phase0) % 1.0
    return 0.5 - 0.5 * np.cos(2 * np.pi * t)


def lv_shape(heart: Heart, contraction: float) -> Tuple[float, float]:
    """(length, half width) of the left ventricle at a contraction in [0, 1]."""
    return (heart.lv_length * (1 - heart.stroke[0] * contraction),
            heart.lv_width * (1 - heart.stroke[1] * contraction))


def _lv_coords(heart: Heart, y: np.ndarray, x: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """(u along the long axis from the apex, v across it) of image points (row y, column x)."""
    dy, dx = y - heart.lv_apex[0], x - heart.lv_apex[1]
    c, s = np.cos(heart.lv_angle), np.sin(heart.lv_angle)
    return dy * c + dx * s, dx * c - dy * s


def _cavity(u: np.ndarray, v: np.ndarray, length: float, width: float) -> np.ndarray:
    half = width * np.sqrt(np.clip(1 - ((length - u) / length)**2, 0, None))
    return (u >= 0) & (u <= length) & (np.abs(v) <= half)


def lv_tracing(heart: Heart, contraction: float) -> np.ndarray:
    """The EchoNet-Dynamic trace of the cavity: row 0 the long axis (apex to the middle of the
    mitral plane), then :data:`N_CHORDS` chords from one wall (X1, Y1) to the other (X2, Y2),
    perpendicular to the long axis. Returns (1 + N_CHORDS) x 4 image coordinates X1 Y1 X2 Y2."""
    length, width = lv_shape(heart, contraction)
    c, s = np.cos(heart.lv_angle), np.sin(heart.lv_angle)
    (ay, ax) = heart.lv_apex

    def point(u, v):  # LV coordinates -> (x, y) in the image
        return ax + u * s + v * c, ay + u * c - v * s

    rows = [(*point(0.0, 0.0), *point(length, 0.0))]
    for u in np.linspace(0, length, N_CHORDS + 2)[1:-1]:
        half = width * np.sqrt(max(0.0, 1 - ((length - u) / length)**2))
        rows.append((*point(u, -half), *point(u, half)))
    return np.asarray(rows, np.float64)


def _tissue(heart: Heart, contraction: float, y: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Tissue ids at image points: chambers, myocardium, pericardium and surrounding tissue."""
    length, width = lv_shape(heart, contraction)
    out = np.full(y.shape, _ID['outside'], np.uint8)
    u, v = _lv_coords(heart, y, x)
    wall = heart.wall * (1 + 0.3 * contraction)  # the wall thickens as it contracts
    lv_wall = _cavity(u + wall, v, length + wall, width + wall) & (u <= length)
    # the right ventricle: a narrower cavity left of the septum, contracting less
    ry, rx, rl, rw = heart.rv
    ru, rv_ = _lv_coords(heart, y - (ry - heart.lv_apex[0]), x - (rx - heart.lv_apex[1]))
    rl_now, rw_now = rl * (1 - 0.6 * heart.stroke[0] * contraction), \
        rw * (1 - 0.6 * heart.stroke[1] * contraction)
    rv_wall = _cavity(ru + wall * 0.7, rv_, rl_now + wall * 0.7, rw_now + wall * 0.7) & \
        (ru <= rl_now)
    out[lv_wall | rv_wall] = _ID['myocardium']
    # atria below the mitral and tricuspid planes (they fill as the ventricles empty)
    # (centres a wall's thickness below the valve planes: the annulus shows as a bright line)
    for (cy, cx, r) in ((heart.lv_apex[0] + length + 0.6 * wall + 1.1 * width,
                         heart.lv_apex[1] + length * np.sin(heart.lv_angle), width * 0.95),
                        (ry + rl_now + 0.6 * wall + 1.2 * rw, rx, rw * 1.1)):
        ring = np.hypot((y - cy) / 1.15, x - cx)
        out[(ring <= r + wall * 0.5) & (out == _ID['outside'])] = _ID['myocardium']
        out[ring <= r] = _ID['blood']
    out[_cavity(u, v, length, width)] = _ID['blood']
    out[_cavity(ru, rv_, rl_now, rw_now)] = _ID['blood']
    # the pericardium: a bright band around the ventricles
    cy, cx = heart.lv_apex[0] + 0.55 * heart.lv_length, 0.5 * (heart.lv_apex[1] + rx)
    radius = 0.62 * heart.lv_length + 2 * heart.wall
    band = np.abs(np.hypot((y - cy) / 1.3, x - cx) - radius) < 0.02 * heart.geometry.size[0]
    out[band & (out == _ID['outside'])] = _ID['pericardium']
    return out


@lru_cache(maxsize=4)
def _beam_points(geom: ProbeGeometry) -> Tuple[np.ndarray, np.ndarray]:
    """Image coordinates (row, column) of every beam-grid sample of a sector."""
    rows, lines = geom.beam_shape
    (ay, ax), (r0, r1) = geom.apex, geom.radii
    r = r0 + (np.arange(rows)[:, None] + 0.5) / rows * (r1 - r0)
    theta = -geom.half_angle + (np.arange(lines)[None, :] + 0.5) / lines * 2 * geom.half_angle
    return ay + r * np.cos(theta), ax + r * np.sin(theta)


def render_frame(seed: int, frame: int, size: Tuple[int, int] = (112, 112),
                 period: float = 0.0) -> Tuple[np.ndarray, float]:
    """Frame ``frame`` of patient ``seed``: the uint8 HxW B-mode image and its contraction.

    Args:
        seed (int): Patient seed (>= 0).
        frame (int): Frame index (>= 0).
        size (tuple[int, int]): Image height and width. Defaults to (112, 112) (EchoNet).
        period (float): Frames per cardiac cycle; 0 draws 16-24 per patient. Defaults to 0.
    """
    check_int('seed', seed, low=0)
    check_int('frame', frame, low=0)
    heart = sample_heart(int(seed), tuple(size), float(period))
    contraction = cardiac_phase(heart, frame)
    y, x = _beam_points(heart.geometry)
    tissue = _tissue(heart, contraction, y, x)
    rng = np.random.default_rng([int(seed), int(frame)])
    i, q, occ = heart.scatterers
    # tissue speckle decorrelates slowly, blood speckle from frame to frame
    rho = np.where(tissue == _ID['blood'], 0.1, 0.9)
    keep = np.sqrt(1 - rho * rho)
    roll = rng.integers(0, i.shape, (2, 2))
    scat = (rho * i + keep * np.roll(q, roll[0], (0, 1)),
            rho * q + keep * np.roll(i, roll[1], (0, 1)), occ)
    level = heart.levels[tissue]
    loss = two_way_loss_db(heart.alpha[tissue])
    dyn_range, white, tgc, noise = heart.echo
    intensity = speckle_intensity(level - loss, heart.density[tissue], scat, heart.psf, None,
                                  noise)
    intensity = cv2.GaussianBlur(intensity, (0, 0), sigmaX=0.8, sigmaY=0.5)
    beam = log_compress(intensity, white + rng.uniform(-1.0, 1.0), dyn_range, tgc)
    return to_image(beam, heart.geometry), float(contraction)
