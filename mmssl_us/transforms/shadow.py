"""Acoustic shadowing behind strong reflectors."""
import math
from numbers import Real
from typing import Optional, Sequence, Tuple

import cv2
import numpy as np
from mmcv.transforms import BaseTransform
from mmcv.transforms.utils import cache_randomness
from mmengine.registry import TRANSFORMS

from ..validate import check_choice, check_float, check_int, check_range
from ._utils import Range, any_channel_above, apply_gain, check_prob, get_image


def _run_taper(covered: np.ndarray, soft_edge: float) -> np.ndarray:
    """Lateral fade-in of each run of covered beams: 1 inside, rising from the run's edges.

    A beam ``d`` beams away from the nearest uncovered beam (1 at a run's edge) gets
    ``min(1, d / max(1, soft_edge * run_length))``. Runs touching the array's ends do not
    fade there (the shadow continues beyond the image).
    """
    taper = np.zeros(len(covered), dtype=np.float32)
    edges = np.flatnonzero(np.diff(np.r_[0, covered.astype(np.int8), 0]))
    for start, stop in zip(edges[::2], edges[1::2]):
        idx = np.arange(start, stop)
        left = idx - start + 1 if start > 0 else np.full(len(idx), np.inf)
        right = stop - idx if stop < len(covered) else np.full(len(idx), np.inf)
        ramp = max(1.0, soft_edge * (stop - start))
        taper[start:stop] = np.minimum(1.0, np.minimum(left, right) / ramp)
    return taper


@TRANSFORMS.register_module()
class AcousticShadow(BaseTransform):
    """Darken the region behind a strong reflector along the beam direction.

    Bone, calcifications and gas reflect or absorb nearly all the sound, so the tissue
    behind them along the beam receives little energy and appears dark. The reflector is
    either detected (a random connected component of pixels ``>= threshold`` of at least
    ``min_area`` pixels; nothing changes when there is none) or placed at random (a thin
    segment at a random depth and lateral position). Every pixel strictly deeper than the
    reflector on a beam that crosses it is scaled by ``1 - strength * taper``, where
    ``taper`` rises from the lateral edges of the shadow over ``soft_edge`` of its width;
    all other pixels, the reflector included, are unchanged.

    Beams run down the columns (linear probe, ``apex=None``) or radiate from an apex given
    in image fractions ``(x / W, y / H)``, usually at or above the top row (sector image),
    binned in angle about 1.5 pixels wide at the reflector's (median) radius.

    Required Keys:

    - img

    Modified Keys:

    - img

    Args:
        reflector (str): ``'random'`` or ``'detect'``. Defaults to 'random'.
        strength (float | Sequence[float]): Fraction of the amplitude removed in the
            shadow, or a ``(min, max)`` range, within [0, 1]. Defaults to (0.4, 0.9).
        width (float | Sequence[float]): Lateral extent of a random reflector as a fraction
            of the image width (measured along the arc through its centre with an apex),
            in (0, 1]. Defaults to (0.05, 0.3).
        depth (float | Sequence[float]): Row of a random reflector's centre as a fraction
            of the image height, in [0, 1]; its column is uniform. Defaults to (0.1, 0.7).
        threshold (int): Grey level in [1, 255] from which a pixel counts as bright
            (detect). Defaults to 200.
        min_area (int): Smallest detected reflector, in pixels, >= 1. Defaults to 20.
        soft_edge (float): Fraction of the shadow width over which it fades in at each
            lateral edge, in [0, 0.5]. Defaults to 0.2.
        apex (tuple[float, float], optional): Beam origin for sector images, in image
            fractions. Defaults to None (vertical beams).
        prob (float): Probability of applying the transform. Defaults to 0.3.
    """

    def __init__(self,
                 reflector: str = 'random',
                 strength: Range = (0.4, 0.9),
                 width: Range = (0.05, 0.3),
                 depth: Range = (0.1, 0.7),
                 threshold: int = 200,
                 min_area: int = 20,
                 soft_edge: float = 0.2,
                 apex: Optional[Sequence[float]] = None,
                 prob: float = 0.3) -> None:
        check_choice('reflector', reflector, ('random', 'detect'))
        threshold = check_int('threshold', threshold, 1, 255)
        min_area = check_int('min_area', min_area, low=1)
        if apex is not None:
            if (not isinstance(apex, Sequence) or len(apex) != 2
                    or not all(isinstance(a, Real) and np.isfinite(a) for a in apex)):
                raise ValueError(f'apex must be None or a pair (x, y) of numbers, got {apex!r}')
            apex = (float(apex[0]), float(apex[1]))
        self.reflector = reflector
        self.strength = check_range('strength', strength, low=0.0, high=1.0)
        self.width = check_range('width', width, low=1e-6, high=1.0)
        self.depth = check_range('depth', depth, low=0.0, high=1.0)
        self.threshold = threshold
        self.min_area = min_area
        self.soft_edge = check_float('soft_edge', soft_edge, low=0.0, high=0.5)
        self.apex = apex
        self.prob = check_prob(prob)
        self._polar: tuple = ((0, 0), None, None)  # (shape, angle, radius) of the last image

    def _beam_coords(self, h: int, w: int) -> Tuple[np.ndarray, np.ndarray]:
        """Per-pixel (angle from straight down, radius) about the apex; the last is cached."""
        if self._polar[0] != (h, w):
            ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
            dx, dy = xs - self.apex[0] * w, ys - self.apex[1] * h
            self._polar = ((h, w), np.arctan2(dx, dy), np.hypot(dx, dy))
        return self._polar[1], self._polar[2]

    @cache_randomness
    def _random_params(self) -> Tuple[bool, float, np.ndarray]:
        """Draw (apply, strength, uniforms for depth, width, position and choice)."""
        apply = bool(np.random.rand() < self.prob)
        return apply, float(np.random.uniform(*self.strength)), np.random.rand(4)

    def _detected_pixels(self, img: np.ndarray, u: float) -> Optional[np.ndarray]:
        """Mask of one random bright component, or None when there is none."""
        bright = any_channel_above(img, self.threshold - 1)  # some channel >= threshold
        _, labels, stats, _ = cv2.connectedComponentsWithStats(bright, connectivity=8)
        big = 1 + np.flatnonzero(stats[1:, cv2.CC_STAT_AREA] >= self.min_area)
        if len(big) == 0:
            return None
        return labels == big[min(int(u * len(big)), len(big) - 1)]

    def shadow_gain(self, img: np.ndarray, strength: float, u: np.ndarray) -> np.ndarray:
        """Gain map (HxW float32) of the shadow; beams are binned by column or by angle.

        Args:
            img (np.ndarray): The uint8 image (searched for reflectors in detect mode).
            strength (float): Fraction of the amplitude removed.
            u (np.ndarray): Four uniforms: depth, width, column, component choice.
        """
        h, w = img.shape[:2]
        refl = self._detected_pixels(img, u[3]) if self.reflector == 'detect' else None
        if self.reflector == 'detect' and refl is None:
            return np.ones((h, w), dtype=np.float32)
        xc, yc = u[2] * (w - 1), np.interp(u[0], (0, 1), self.depth) * (h - 1)
        width_px = max(1.0, np.interp(u[1], (0, 1), self.width) * w)
        if self.apex is None:  # vertical beams: one per column, depth = row
            bins, v = np.arange(w), np.arange(h, dtype=np.float32)[:, None]
            v_start = np.full(w, np.inf, dtype=np.float32)  # shadow start per beam
            if refl is None:
                span = int(round(width_px))
                start = int(np.clip(round(xc - (span - 1) / 2), 0, w - span))
                v_start[start:start + span] = yc
            else:
                refl_v, refl_bins = np.nonzero(refl)
        else:
            theta, v = self._beam_coords(h, w)
            ax, ay = self.apex[0] * w, self.apex[1] * h
            rc = float(np.median(v[refl])) if refl is not None else math.hypot(xc - ax, yc - ay)
            step = 1.5 / max(rc, 1.0)  # angular bins about 1.5 px wide at the reflector
            t0 = float(theta.min())
            n_bins = int((float(theta.max()) - t0) / step) + 1
            bins = np.minimum(((theta - t0) / step).astype(np.int64), n_bins - 1)
            v_start = np.full(n_bins, np.inf, dtype=np.float32)
            if refl is None:
                tc, half = math.atan2(xc - ax, yc - ay), width_px / (2.0 * max(rc, 1.0))
                centres = t0 + (np.arange(n_bins) + 0.5) * step
                hit = np.abs(centres - tc) <= half
                hit[min(int((tc - t0) / step), n_bins - 1)] = True
                v_start[hit] = rc
            else:
                refl_v, refl_bins = v[refl], bins[refl]
        if refl is not None:  # the shadow starts below the deepest reflector pixel of a beam
            v_start[:] = -np.inf
            np.maximum.at(v_start, refl_bins, refl_v.astype(np.float32))
            v_start[np.isneginf(v_start)] = np.inf
        beam_gain = 1.0 - strength * _run_taper(np.isfinite(v_start), self.soft_edge)
        in_shadow = v > v_start[bins]
        return np.where(in_shadow, beam_gain[bins], np.float32(1.0)).astype(np.float32)

    def transform(self, results: dict) -> dict:
        """Add a shadow to ``results['img']``.

        Args:
            results (dict): Result dict with ``img``.

        Returns:
            dict: The result dict with the shadowed image.
        """
        img = get_image(results, type(self).__name__)
        apply, strength, u = self._random_params()
        if apply:
            results['img'] = apply_gain(img, self.shadow_gain(img, strength, u))
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(reflector={self.reflector!r}, '
                f'strength={self.strength}, width={self.width}, depth={self.depth}, '
                f'threshold={self.threshold}, min_area={self.min_area}, '
                f'soft_edge={self.soft_edge}, apex={self.apex}, prob={self.prob})')
