"""Models Genesis distortions for restorative self-supervised pretraining.

Models Genesis (Zhou et al., "Models Genesis: Generic Autodidactic Models for 3D Medical Image
Analysis", MICCAI 2019; extended in Medical Image Analysis 67, 2021) trains an encoder-decoder
to restore an image from a distorted copy of it. The distortions and their default rates are
those of the authors' reference implementation (github.com/MrGiovanni/ModelsGenesis, the
``config.py`` of its pretraining scripts): flips (``flip_rate`` 0.4), local pixel shuffling
(``local_rate`` 0.5), a non-linear intensity map by a random Bezier curve (``nonlinear_rate``
0.9) and in-/out-painting (``paint_rate`` 0.9, of which out-painting ``outpaint_rate`` 0.8 and
in-painting 0.2), applied in that order. The reference works on 3D CT cubes; these transforms
work on uint8 ultrasound frames (``ndim=2``, the default: HxW or HxWxC) and on uint8 volumes
(``ndim=3``: DxHxW or DxHxWxC, for :mod:`mmssl_us.volume`), with the same rates and the same
fractions of each side on every spatial axis (intensities are read as [0, 1] on 256 grey
levels, as the reference works on [0, 1] volumes).

A box is ``(start_0, ..., start_{n-1}, size_0, ..., size_{n-1})`` over the ``n`` spatial axes:
``(y, x, h, w)`` in 2D, ``(z, y, x, d, h, w)`` in 3D.

The "keep both" contract: :class:`KeepRestorationTarget` copies ``img`` to ``gt_img`` (the
restoration target) before any distortion; the distortions change ``img`` only, and
:class:`GenesisFlip` flips ``img`` and ``gt_img`` alike. mmpretrain's
``PackInputs(algorithm_keys=['gt_img'])`` then puts the target into each data sample, where
``ModelsGenesis`` (:mod:`mmssl_us.pretrain.models.genesis`) reads it.
"""
from math import comb
from typing import List, Optional, Sequence, Tuple

import numpy as np
from mmcv.transforms import BaseTransform
from mmcv.transforms.utils import cache_randomness
from mmengine.registry import TRANSFORMS

from ..validate import check_choice, check_float, check_int
from ._utils import apply_lut, check_prob, get_image, to_uint8

__all__ = [
    'KeepRestorationTarget', 'GenesisFlip', 'LocalPixelShuffle', 'BezierIntensityMap',
    'GenesisPainting', 'bezier_lut', 'shuffle_blocks', 'inpaint', 'outpaint'
]

#: the results key of the restoration target
TARGET_KEY = 'gt_img'
#: the starts then the sizes of a box along each spatial axis: (y, x, h, w) in 2D
Box = Tuple[int, ...]
#: flip direction -> array axis, for images (ndim=2) and volumes (ndim=3)
FLIP_AXES = {'vertical': 0, 'horizontal': 1}
FLIP_AXES_3D = {'depth': 0, 'vertical': 1, 'horizontal': 2}
#: the spatial dimensions the transforms accept
NDIMS = (2, 3)


def flip_axes(ndim: int) -> dict:
    """The flip directions of an image (``ndim=2``) or a volume (``ndim=3``) and their axes."""
    return FLIP_AXES if check_choice('ndim', ndim, NDIMS) == 2 else FLIP_AXES_3D


def _slices(box: Box) -> Tuple[slice, ...]:
    """The index of ``box`` over the leading spatial axes."""
    n = len(box) // 2
    return tuple(slice(start, start + size) for start, size in zip(box[:n], box[n:]))


def _noise(rng: np.random.Generator, shape: Tuple[int, ...], ndim: int = 2) -> np.ndarray:
    """Uniform noise on [0, 1] as uint8 grey levels over the ``ndim`` spatial axes of
    ``shape`` (shared by every channel)."""
    return rng.integers(0, 256, size=shape[:ndim], dtype=np.uint8)


def _paste(dst: np.ndarray, src: np.ndarray, box: Box) -> None:
    """Copy ``src`` (spatial only, or an array like ``dst``) into ``dst`` inside ``box``."""
    index = _slices(box)
    patch = src[index]
    if dst.ndim > patch.ndim:
        patch = patch[..., None]
    dst[index] = patch


@TRANSFORMS.register_module()
class KeepRestorationTarget(BaseTransform):
    """Copy the undistorted image to ``results[key]``, the target of a restorative model.

    Put it after the geometric steps (crop) and before any distortion. Deterministic.

    Required Keys:

    - img

    Added Keys:

    - gt_img (or ``key``): a copy of ``img``

    Args:
        key (str): Where the target goes. Defaults to 'gt_img'.
        ndim (int): Spatial dimensions of ``img``: 2 (image) or 3 (volume). Defaults to 2.
    """

    def __init__(self, key: str = TARGET_KEY, ndim: int = 2) -> None:
        if not isinstance(key, str) or not key or key == 'img':
            raise ValueError(f'key must be a non-empty name other than "img", got {key!r}')
        self.key = key
        self.ndim = check_choice('ndim', ndim, NDIMS)

    def transform(self, results: dict) -> dict:
        """Add ``results[key]``, a copy of ``results['img']``."""
        results[self.key] = get_image(results, type(self).__name__, self.ndim).copy()
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(key={self.key!r}, ndim={self.ndim})'


@TRANSFORMS.register_module()
class GenesisFlip(BaseTransform):
    """Flip the image and its restoration target alike, up to ``max_flips`` times.

    As the reference's ``data_augmentation``: while a draw is below ``prob`` (and fewer than
    ``max_flips`` flips were made) flip along an axis chosen uniformly from ``directions``. So
    ``prob`` is the probability of at least one flip; two flips along one axis cancel out, and
    the image changes a little less often (with the defaults 0.352 of the time instead of 0.4).
    The reference flips along all three axes of a CT cube: with ``ndim=3`` the directions are
    'depth' (axis 0), 'vertical' (1) and 'horizontal' (2); in 2D both image axes. On
    ultrasound the vertical axis is the beam's depth, which a config may prefer to keep
    (``directions=('horizontal',)``).

    Required Keys:

    - img
    - gt_img (optional; any of ``keys`` present is flipped)

    Modified Keys:

    - img, gt_img

    Added Keys:

    - flip (bool): whether the net result is flipped
    - flip_direction (str | tuple | None): in 2D 'horizontal', 'vertical' or 'diagonal'
      (both), as mmcv; in 3D the tuple of the flipped directions (None when none)

    Args:
        prob (float): Probability of each further flip. Defaults to 0.4 (``flip_rate``).
        max_flips (int): Most flips per image. Defaults to 3.
        directions (Sequence[str], optional): Axes to choose from: 'horizontal' and/or
            'vertical', with ``ndim=3`` also 'depth'. Defaults to None: ('horizontal',
            'vertical'), with ``ndim=3`` ('horizontal', 'vertical', 'depth').
        keys (Sequence[str]): The arrays flipped together. Defaults to ('img', 'gt_img').
        ndim (int): Spatial dimensions: 2 (image) or 3 (volume). Defaults to 2.
    """

    def __init__(self,
                 prob: float = 0.4,
                 max_flips: int = 3,
                 directions: Optional[Sequence[str]] = None,
                 keys: Sequence[str] = ('img', TARGET_KEY),
                 ndim: int = 2) -> None:
        self.prob = check_prob(prob)
        self.max_flips = check_int('max_flips', max_flips, low=1)
        self.ndim = check_choice('ndim', ndim, NDIMS)
        axes = flip_axes(self.ndim)
        if directions is None:
            directions = ('horizontal', 'vertical') + (('depth', ) if ndim == 3 else ())
        if isinstance(directions, str) or not directions:
            raise ValueError(f'directions must be a non-empty sequence, got {directions!r}')
        self.directions = tuple(check_choice('direction', d, tuple(axes)) for d in directions)
        if isinstance(keys, str) or 'img' not in keys:
            raise ValueError(f'keys must be a sequence that holds "img", got {keys!r}')
        self.keys = tuple(keys)

    @cache_randomness
    def _random_params(self) -> List[str]:
        """The directions of the flips, in order."""
        flips: List[str] = []
        while len(flips) < self.max_flips and np.random.rand() < self.prob:
            flips.append(self.directions[np.random.randint(len(self.directions))])
        return flips

    def transform(self, results: dict) -> dict:
        """Flip ``img`` and the other ``keys`` present by the same draw."""
        get_image(results, type(self).__name__, self.ndim)
        flips = self._random_params()
        axes = flip_axes(self.ndim)
        odd = [d for d in axes if flips.count(d) % 2 == 1]
        for key in self.keys:
            if key in results:
                for direction in odd:
                    results[key] = np.flip(results[key], axis=axes[direction])
                results[key] = np.ascontiguousarray(results[key])
        results['flip'] = bool(odd)
        if self.ndim == 3:
            results['flip_direction'] = tuple(odd) if odd else None
        else:
            results['flip_direction'] = (None if not odd else odd[0] if len(odd) == 1 else
                                         'diagonal')
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(prob={self.prob}, max_flips={self.max_flips}, '
                f'directions={self.directions}, keys={self.keys}, ndim={self.ndim})')


def shuffle_blocks(img: np.ndarray, boxes: Sequence[Box],
                   rng: np.random.Generator) -> np.ndarray:
    """Shuffle the pixels inside each box; every box is read from the unchanged ``img``.

    As the reference, a box overwrites the earlier ones where they overlap, so each pixel's
    value comes from within one box of it; disjoint boxes each keep their histogram exactly.
    The channels of a pixel move together.

    Args:
        img (np.ndarray): HxW or HxWxC image, or with 3D boxes a DxHxW or DxHxWxC volume.
        boxes (Sequence[tuple]): Boxes inside the image, ``(y, x, h, w)`` in 2D,
            ``(z, y, x, d, h, w)`` in 3D.
        rng (np.random.Generator): Source of the permutations.

    Returns:
        np.ndarray: A new image.
    """
    out = img.copy()
    for box in boxes:
        n = len(box) // 2
        sizes, tail = tuple(box[n:]), img.shape[n:]
        count = int(np.prod(sizes))
        index = _slices(box)
        window = img[index].reshape((count, ) + tail)
        out[index] = window[rng.permutation(count)].reshape(sizes + tail)
    return out


@TRANSFORMS.register_module()
class LocalPixelShuffle(BaseTransform):
    """Shuffle the pixels within many small random blocks (local texture, global shape kept).

    The reference's ``local_pixel_shuffling``: ``num_blocks`` = 10000 windows, each side drawn
    uniformly from 1 to a tenth of the image's side, at a uniform position; the pixels of each
    window (read from the undistorted image) are permuted at random and written back, later
    windows over earlier ones (:func:`shuffle_blocks`). With ``ndim=3`` the windows are boxes
    of the volume, each side up to a tenth of that side of the volume.

    Required Keys:

    - img

    Modified Keys:

    - img

    Args:
        prob (float): Probability of applying it. Defaults to 0.5 (``local_rate``).
        num_blocks (int): Windows per image. Defaults to 10000.
        max_block_frac (float): Largest window side as a fraction of the image side (at least
            one pixel). Defaults to 0.1.
        ndim (int): Spatial dimensions: 2 (image) or 3 (volume). Defaults to 2.
    """

    def __init__(self, prob: float = 0.5, num_blocks: int = 10000,
                 max_block_frac: float = 0.1, ndim: int = 2) -> None:
        self.prob = check_prob(prob)
        self.num_blocks = check_int('num_blocks', num_blocks, low=1)
        self.max_block_frac = check_float('max_block_frac', max_block_frac, 0.0, 1.0,
                                          low_open=True)
        self.ndim = check_choice('ndim', ndim, NDIMS)

    @cache_randomness
    def _random_params(self) -> Tuple[bool, int]:
        """Draw (apply, seed of the windows and permutations)."""
        return bool(np.random.rand() < self.prob), int(np.random.randint(0, 2**31 - 1))

    def boxes(self, *args) -> List[Box]:
        """Draw the ``num_blocks`` windows: ``boxes(height, width, rng)`` for an image,
        ``boxes(depth, height, width, rng)`` for a volume (one size per spatial axis)."""
        *size, rng = args
        # the draws of 2D keep their order (every size, then every start) for repeatability
        sides = [rng.integers(1, max(1, int(n * self.max_block_frac)) + 1, size=self.num_blocks)
                 for n in size]
        starts = [(rng.random(self.num_blocks) * (n - side + 1)).astype(int)
                  for n, side in zip(size, sides)]
        return list(zip(*[a.tolist() for a in starts + sides]))

    def transform(self, results: dict) -> dict:
        """Shuffle small blocks of ``results['img']``."""
        img = get_image(results, type(self).__name__, self.ndim)
        apply, seed = self._random_params()
        if apply:
            rng = np.random.default_rng(seed)
            results['img'] = shuffle_blocks(img, self.boxes(*img.shape[:self.ndim], rng), rng)
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(prob={self.prob}, num_blocks={self.num_blocks}, '
                f'max_block_frac={self.max_block_frac}, ndim={self.ndim})')


def bezier_lut(p1: Sequence[float], p2: Sequence[float], reverse: bool,
               num_samples: int = 1000) -> np.ndarray:
    """The 256-level table of a cubic Bezier intensity map through (0, 0), p1, p2, (1, 1).

    Grey level ``v`` maps to ``255 * f(v / 255)``, with ``f`` the curve read as a function of
    its x coordinate. With inner control points in the unit square both coordinates of the
    curve are non-decreasing in its parameter, so ``f`` is a non-decreasing map from 0 to 1.
    ``reverse`` pairs the sorted x samples with the y samples in the opposite order, as the
    reference's "flip" branch does: a non-increasing map from 1 to 0 (an inverted contrast).

    Args:
        p1 (Sequence[float]): First inner control point (x, y) in [0, 1]^2.
        p2 (Sequence[float]): Second inner control point (x, y) in [0, 1]^2.
        reverse (bool): Invert the map.
        num_samples (int): Samples along the curve. Defaults to 1000.

    Returns:
        np.ndarray: uint8 table of 256 entries.
    """
    points = np.array([[0.0, 0.0], p1, p2, [1.0, 1.0]], dtype=np.float64)
    if points.min() < 0 or points.max() > 1:
        raise ValueError(f'Bezier control points must lie in [0, 1]^2, got {p1} and {p2}')
    t = np.linspace(0.0, 1.0, num_samples)[:, None]
    basis = np.hstack([comb(3, i) * t**i * (1 - t)**(3 - i) for i in range(4)])
    xs, ys = (basis @ points).T
    order = np.argsort(xs, kind='stable')
    xs, ys = xs[order], ys[order]
    if reverse:
        ys = ys[::-1]
    levels = np.arange(256, dtype=np.float64) / 255.0
    return to_uint8(np.interp(levels, xs, ys) * 255.0)


@TRANSFORMS.register_module()
class BezierIntensityMap(BaseTransform):
    """Map the grey levels through a random monotone Bezier curve (non-linear transformation).

    The reference's ``nonlinear_transformation``: a cubic Bezier curve from (0, 0) to (1, 1)
    through two control points drawn uniformly in the unit square, read as a map of the
    intensity in [0, 1]; half the time the map is reversed (:func:`bezier_lut`). The model must
    then recover the absolute intensities, i.e. learn what the tissue is.

    Required Keys:

    - img

    Modified Keys:

    - img

    Args:
        prob (float): Probability of applying it. Defaults to 0.9 (``nonlinear_rate``).
        reverse_prob (float): Probability that an applied map is reversed. Defaults to 0.5.
        ndim (int): Spatial dimensions: 2 (image) or 3 (volume). Defaults to 2.
    """

    def __init__(self, prob: float = 0.9, reverse_prob: float = 0.5, ndim: int = 2) -> None:
        self.prob = check_prob(prob)
        self.reverse_prob = check_float('reverse_prob', reverse_prob, 0.0, 1.0)
        self.ndim = check_choice('ndim', ndim, NDIMS)

    @cache_randomness
    def _random_params(self) -> Tuple[bool, np.ndarray, bool]:
        """Draw (apply, the two inner control points as a 2x2 array, reverse)."""
        apply = bool(np.random.rand() < self.prob)
        points = np.random.rand(2, 2)
        reverse = bool(np.random.rand() < self.reverse_prob)
        return apply, points, reverse

    def transform(self, results: dict) -> dict:
        """Map the grey levels of ``results['img']``."""
        img = get_image(results, type(self).__name__, self.ndim)
        apply, points, reverse = self._random_params()
        if apply:
            results['img'] = apply_lut(img, bezier_lut(points[0], points[1], reverse))
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(prob={self.prob}, reverse_prob={self.reverse_prob}, '
                f'ndim={self.ndim})')


def _box(rng: np.random.Generator, size: Sequence[int], low: Sequence[int],
         high: Sequence[int], margin: int) -> Box:
    """A box with sides in [low, high] (inclusive, per axis) at least ``margin`` pixels from
    the border where the image allows it; per axis the side is drawn, then the start."""
    starts: List[int] = []
    sides: List[int] = []
    for n, lo, hi in zip(size, low, high):
        lo = min(max(1, lo), n)
        side = int(rng.integers(lo, max(lo, min(hi, n)) + 1))
        gap = min(margin, (n - side) // 2)
        starts.append(int(rng.integers(gap, n - side - gap + 1)))
        sides.append(side)
    return tuple(starts + sides)


def _boxes(rng: np.random.Generator, size: Sequence[int], low: Sequence[int],
           high: Sequence[int], margin: int, first: bool, max_boxes: int,
           continue_prob: float) -> List[Box]:
    """``first`` box for certain (out-painting), then more while a draw is below
    ``continue_prob``, ``max_boxes`` at most (the reference's ``while cnt > 0 and
    random() < 0.95`` loops)."""
    boxes = [_box(rng, size, low, high, margin)] if first else []
    while len(boxes) < max_boxes and rng.random() < continue_prob:
        boxes.append(_box(rng, size, low, high, margin))
    return boxes


def inpaint(img: np.ndarray, rng: np.random.Generator, max_boxes: int = 5,
            continue_prob: float = 0.95, margin: int = 3,
            ndim: int = 2) -> Tuple[np.ndarray, List[Box]]:
    """Replace up to ``max_boxes`` random boxes by uniform noise (the reference's in-painting).

    Each box side is drawn from a sixth to a third of the image side, the box at least
    ``margin`` pixels inside the border; every box, the first one included, is drawn only
    while a draw is below ``continue_prob``.

    Args:
        img (np.ndarray): uint8 HxW or HxWxC image (``ndim=2``) or DxHxW or DxHxWxC volume
            (``ndim=3``).
        rng (np.random.Generator): Source of randomness.
        max_boxes (int): Most boxes. Defaults to 5.
        continue_prob (float): Probability of each further box. Defaults to 0.95.
        margin (int): Least distance to the border. Defaults to 3.
        ndim (int): Spatial dimensions. Defaults to 2.

    Returns:
        tuple[np.ndarray, list[tuple]]: The new image and its boxes (``(y, x, h, w)`` in 2D).
    """
    size = img.shape[:ndim]
    boxes = _boxes(rng, size, [n // 6 for n in size], [n // 3 for n in size], margin, False,
                   max_boxes, continue_prob)
    out = img.copy()
    for box in boxes:
        _paste(out, _noise(rng, img.shape, ndim), box)
    return out, boxes


def outpaint(img: np.ndarray, rng: np.random.Generator, max_boxes: int = 5,
             continue_prob: float = 0.95, margin: int = 3,
             ndim: int = 2) -> Tuple[np.ndarray, List[Box]]:
    """Keep one or more random inner boxes and replace the rest by noise (out-painting).

    The reference's out-painting: the image becomes uniform noise except in a first box and up
    to ``max_boxes - 1`` more (each while a draw is below ``continue_prob``), where the
    original is kept; each box side is drawn from 3/7 to 4/7 of the image side, the box at
    least ``margin`` pixels inside the border.

    Args:
        img (np.ndarray): uint8 HxW or HxWxC image (``ndim=2``) or DxHxW or DxHxWxC volume
            (``ndim=3``).
        rng (np.random.Generator): Source of randomness.
        max_boxes (int): Most kept boxes. Defaults to 5.
        continue_prob (float): Probability of each further box. Defaults to 0.95.
        margin (int): Least distance to the border. Defaults to 3.
        ndim (int): Spatial dimensions. Defaults to 2.

    Returns:
        tuple[np.ndarray, list[tuple]]: The new image and the kept boxes (``(y, x, h, w)``
        in 2D).
    """
    size = img.shape[:ndim]
    boxes = _boxes(rng, size, [n - 4 * n // 7 for n in size], [n - 3 * n // 7 for n in size],
                   margin, True, max_boxes, continue_prob)
    noise = _noise(rng, img.shape, ndim)
    out = (np.repeat(noise[..., None], img.shape[ndim], axis=ndim) if img.ndim > ndim else
           noise)
    for box in boxes:
        _paste(out, img, box)
    return out, boxes


@TRANSFORMS.register_module()
class GenesisPainting(BaseTransform):
    """In-painting or out-painting with noise, as the reference's last distortion.

    With probability ``prob`` (``paint_rate``) the image is painted: out-painting
    (:func:`outpaint`: only one or a few inner boxes of the image survive) with probability
    ``outpaint_prob`` (``outpaint_rate``), in-painting (:func:`inpaint`: a few boxes become
    noise) otherwise. Noise is uniform on [0, 1], i.e. on the 256 grey levels, the same in
    every channel.

    Required Keys:

    - img

    Modified Keys:

    - img

    Args:
        prob (float): Probability of painting. Defaults to 0.9 (``paint_rate``).
        outpaint_prob (float): Probability that a painting is an out-painting.
            Defaults to 0.8 (``outpaint_rate``; in-painting 0.2).
        max_boxes (int): Most boxes of either kind. Defaults to 5.
        continue_prob (float): Probability of each further box. Defaults to 0.95.
        margin (int): Least distance of a box to the border, in pixels. Defaults to 3.
        ndim (int): Spatial dimensions: 2 (image) or 3 (volume, 3D boxes). Defaults to 2.
    """

    def __init__(self, prob: float = 0.9, outpaint_prob: float = 0.8, max_boxes: int = 5,
                 continue_prob: float = 0.95, margin: int = 3, ndim: int = 2) -> None:
        self.prob = check_prob(prob)
        self.outpaint_prob = check_float('outpaint_prob', outpaint_prob, 0.0, 1.0)
        self.max_boxes = check_int('max_boxes', max_boxes, low=1)
        self.continue_prob = check_float('continue_prob', continue_prob, 0.0, 1.0)
        self.margin = check_int('margin', margin, low=0)
        self.ndim = check_choice('ndim', ndim, NDIMS)

    @cache_randomness
    def _random_params(self) -> Tuple[Optional[str], int]:
        """Draw (None, 'inpaint' or 'outpaint'; seed of the boxes and the noise)."""
        apply = np.random.rand() < self.prob
        mode = 'outpaint' if np.random.rand() < self.outpaint_prob else 'inpaint'
        return (mode if apply else None), int(np.random.randint(0, 2**31 - 1))

    def transform(self, results: dict) -> dict:
        """Paint ``results['img']``."""
        img = get_image(results, type(self).__name__, self.ndim)
        mode, seed = self._random_params()
        if mode is not None:
            paint = outpaint if mode == 'outpaint' else inpaint
            results['img'], _ = paint(img, np.random.default_rng(seed), self.max_boxes,
                                      self.continue_prob, self.margin, self.ndim)
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(prob={self.prob}, outpaint_prob={self.outpaint_prob}, '
                f'max_boxes={self.max_boxes}, continue_prob={self.continue_prob}, '
                f'margin={self.margin}, ndim={self.ndim})')
