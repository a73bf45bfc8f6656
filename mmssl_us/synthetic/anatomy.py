"""Anatomy of a knee suprapatellar recess view, drawn once per patient.

From the skin down: skin line, subcutaneous fat with echogenic septa, the quadriceps tendon
(fibrillar), the suprapatellar fat pad, the recess (anechoic effusion, the label), the
prefemoral fat pad, a thin hypoechoic cartilage cap (some patients) and the femur, whose
cortex is a bright curved line that shadows everything below it. The layers are stacked up
from the bone, so a distended recess lifts the tendon, as it does in a joint with effusion.

Depths are fractions of the imaged depth and lateral positions fractions of the footprint
width, so one patient looks the same at any image size. Each boundary is a smooth curve:
``base + tilt * (v - 0.5) + two random sinusoids``.
"""
from dataclasses import dataclass, field
from typing import Dict

import numpy as np

# Share of patients whose recess holds no effusion (collapsed: a thin dark line, no label).
P_NO_EFFUSION = 0.15

# Tissue ids of the label map (0 is outside the footprint).
TISSUES = ('outside', 'skin', 'fat', 'tendon', 'fat_pad', 'recess', 'prefemoral', 'cartilage',
           'cortex', 'bone', 'septum', 'collapsed')
TISSUE_ID = {name: i for i, name in enumerate(TISSUES)}
# Order of the layers down a beam; the boundaries between them are LAYER_BOUNDARIES.
LAYERS = ('skin', 'fat', 'tendon', 'fat_pad', 'recess', 'prefemoral', 'cartilage', 'cortex',
          'bone')


def random_curve(rng: np.random.Generator, base: float, tilt: float,
                 ripple: float) -> np.ndarray:
    """Coefficients of a smooth boundary curve.

    Args:
        rng (np.random.Generator): Source of randomness.
        base (float): Depth at the centre (fraction of the imaged depth).
        tilt (float): Largest slope (depth change across the whole width), drawn in +-tilt.
        ripple (float): Largest amplitude of each of the two sinusoids.

    Returns:
        np.ndarray: ``[base, tilt, a1, f1, p1, a2, f2, p2]``, see :func:`eval_curve`.
    """
    a = rng.uniform(0, ripple, 2)
    f = rng.uniform([0.3, 1.0], [1.0, 2.5])
    p = rng.uniform(0, 2 * np.pi, 2)
    return np.array([base, rng.uniform(-tilt, tilt), a[0], f[0], p[0], a[1], f[1], p[1]])


def eval_curve(c: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Evaluate a curve made by :func:`random_curve` at lateral positions ``v`` (0..1)."""
    return (c[0] + c[1] * (v - 0.5) + c[2] * np.sin(2 * np.pi * c[3] * v + c[4]) +
            c[5] * np.sin(2 * np.pi * c[6] * v + c[7]))


@dataclass
class KneeAnatomy:
    """One patient's anatomy and echo properties (see :func:`sample_anatomy`).

    Args:
        curves (dict[str, np.ndarray]): Boundary and thickness curves by name.
        recess (dict[str, float]): Shape of the recess: centre, half-widths, thickness,
            exponent; thickness 0 means no effusion.
        bone_span (tuple[float, float]): Lateral extent of the femur (0..1).
        septa (np.ndarray): Septa in the fat, rows of ``[depth within the fat (0..1),
            slope, lateral start, lateral length]``.
        reflect_db (np.ndarray): Echo level (dB) per tissue id.
        density (np.ndarray): Scatterer density per tissue id.
        alpha (np.ndarray): One-way attenuation per tissue id (dB / pixel at 256 rows).
        specular (dict[str, float]): Amplitude of the specular lines (boundary name: amp).
        streak_db (np.ndarray): Contrast (dB) of the fibrillar streaks per tissue id.
    """
    curves: Dict[str, np.ndarray]
    recess: Dict[str, float]
    bone_span: tuple
    septa: np.ndarray
    reflect_db: np.ndarray
    density: np.ndarray
    alpha: np.ndarray
    specular: Dict[str, float] = field(default_factory=dict)
    streak_db: np.ndarray = None


def _tissue_table(rng: np.random.Generator) -> tuple:
    """Echo level (dB), scatterer density and attenuation for each tissue, jittered."""
    # name: (level dB, density, attenuation relative to soft tissue)
    table = {
        'outside': (-90, 1.0, 1.0), 'skin': (-26, 1.0, 1.0), 'fat': (-43, 0.7, 0.9),
        'tendon': (-39, 1.0, 1.1), 'fat_pad': (-42, 0.7, 0.9), 'recess': (-90, 1.0, 0.05),
        'prefemoral': (-43, 0.7, 0.9), 'cartilage': (-60, 1.0, 0.5), 'cortex': (-14, 1.0, 150.0),
        'bone': (-50, 1.0, 20.0), 'septum': (-28, 1.0, 1.0), 'collapsed': (-60, 1.0, 0.5)}
    level = np.array([table[t][0] for t in TISSUES], dtype=np.float64)
    level += rng.uniform(-3, 3, len(TISSUES))
    if rng.random() < 0.3:  # effusion with debris: faint sparse echoes
        level[TISSUE_ID['recess']] = rng.uniform(-72, -66)
    density = np.array([table[t][1] for t in TISSUES], dtype=np.float64)
    alpha = np.array([table[t][2] for t in TISSUES], dtype=np.float64)
    # Soft tissue: 20-34 dB two-way over the whole depth, i.e. per pixel of a 256-row grid.
    alpha *= rng.uniform(20, 34) / (2 * 256)
    return level, density, alpha


def sample_anatomy(rng: np.random.Generator) -> KneeAnatomy:
    """Draw one patient's anatomy.

    Args:
        rng (np.random.Generator): Source of randomness.

    Returns:
        KneeAnatomy: Curves, recess shape and echo properties.
    """
    c = {}
    c['skin'] = random_curve(rng, rng.uniform(0.01, 0.025), 0.0, 0.002)
    c['bone'] = random_curve(rng, rng.uniform(0.62, 0.84), 0.15, 0.015)
    c['bone_bend'] = np.array([rng.uniform(0.0, 0.6), rng.uniform(0.3, 0.7)])
    c['cartilage'] = random_curve(rng, rng.uniform(0.012, 0.03) * (rng.random() < 0.5), 0.0,
                                  0.003)
    c['prefemoral'] = random_curve(rng, rng.uniform(0.03, 0.08), 0.03, 0.01)
    c['fat_pad'] = random_curve(rng, rng.uniform(0.03, 0.09), 0.03, 0.01)
    c['tendon'] = random_curve(rng, rng.uniform(0.07, 0.17), 0.04, 0.01)
    u = rng.random(8)
    present = u[0] >= P_NO_EFFUSION
    recess = dict(centre=0.25 + 0.5 * u[1], left=0.15 + 0.35 * u[2],
                  right=0.15 + 0.35 * u[3], thickness=(0.02 + 0.2 * u[4]**1.2) * present,
                  power=0.4 + 0.8 * u[5], ripple=0.15 * u[6])
    if u[7] < 0.65:
        span = (-1.0, 2.0)  # the femur crosses the whole footprint
    else:
        cut = rng.uniform(0.1, 0.45)
        span = (cut, 2.0) if rng.random() < 0.5 else (-1.0, 1.0 - cut)
    n_septa = int(rng.integers(3, 9))
    septa = np.stack([
        rng.uniform(0.15, 0.85, n_septa), rng.uniform(-0.15, 0.15, n_septa),
        rng.uniform(-0.2, 0.7, n_septa), rng.uniform(0.3, 0.9, n_septa)], 1)
    level, density, alpha = _tissue_table(rng)
    specular = dict(tendon_top=rng.uniform(0.02, 0.06), tendon_bottom=rng.uniform(0.02, 0.05),
                    cortex=rng.uniform(0.06, 0.15))
    streak = np.zeros(len(TISSUES))
    streak[[TISSUE_ID[t] for t in ('fat', 'fat_pad', 'prefemoral')]] = rng.uniform(2.0, 4.5)
    streak[[TISSUE_ID[t] for t in ('tendon', 'skin', 'septum')]] = rng.uniform(4.0, 7.0)
    return KneeAnatomy(c, recess, span, septa, level, density, alpha, specular, streak)
