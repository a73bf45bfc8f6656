"""Random resized crops that stay inside the imaged sector."""
import logging
from typing import Sequence, Tuple, Union

import cv2
import mmcv
import numpy as np
from mmcv.transforms import BaseTransform
from mmcv.transforms.utils import cache_randomness
from mmengine.logging import print_log
from mmengine.registry import TRANSFORMS

from ..validate import check_choice, check_float, check_int, check_int_pair, check_range
from ._utils import get_image
from .footprint import estimate_sector_mask, fit_footprint, largest_square
from .geometry import KINDS, draw_footprint

__all__ = ['SectorRandomResizedCrop', 'estimate_sector_mask', 'draw_footprint']
INTERPOLATIONS = ('nearest', 'bilinear', 'bicubic', 'area', 'lanczos')


@TRANSFORMS.register_module()
class SectorRandomResizedCrop(BaseTransform):
    """Random resized crop whose box lies inside the imaged footprint.

    A drop-in for mmpretrain's ``RandomResizedCrop`` (same first six arguments). Per image the
    footprint is estimated (:func:`estimate_sector_mask`), optionally intersected with a
    fitted probe model (``footprint``, see :func:`fit_footprint`) and eroded by ``margin``
    pixels. Each attempt draws an area
    (``crop_ratio_range`` times the footprint's area), a log-uniform aspect ratio and a
    uniform position in the image; the first box whose pixels lie inside the footprint for
    at least a fraction ``min_inside`` (1.0: the whole box, not only its corners) is taken.
    If all ``max_attempts`` fail, the crop falls back to the largest odd-sided square inside
    the footprint (chessboard distance transform; among equal squares the first centre in
    raster order). The crop is resized to ``scale``; ``gt_seg_map`` and every key in
    ``seg_fields`` are cropped alike and resized with nearest neighbours.

    Where a ``'convex'`` or ``'phased'`` model does not fit (no two straight side edges, or
    an overlap below 0.9 IoU with the estimate), the estimate is used and a warning is
    logged once.

    Required Keys:

    - img
    - gt_seg_map (optional)
    - seg_fields (optional)

    Modified Keys:

    - img
    - img_shape
    - gt_seg_map (optional)
    - the keys in seg_fields (optional)

    Args:
        scale (int | Sequence[int]): Output size ``(h, w)``, or an int for a square.
        crop_ratio_range (Sequence[float]): Range of the crop area relative to the
            footprint area. Defaults to (0.08, 1.0).
        aspect_ratio_range (Sequence[float]): Range of the crop's width / height.
            Defaults to (3 / 4, 4 / 3).
        max_attempts (int): Boxes tried before the fallback (cheap: one look-up each).
            Defaults to 100.
        interpolation (str): Resize interpolation of the image, one of 'nearest',
            'bilinear', 'bicubic', 'area', 'lanczos'. Defaults to 'bilinear'.
        backend (str): Resize backend, 'cv2' or 'pillow'. Defaults to 'cv2'.
        footprint (str): ``'auto'`` (the estimated mask), or ``'linear'``, ``'convex'``,
            ``'phased'`` (the estimate within a fitted model of that kind). Defaults to 'auto'.
        min_inside (float): Smallest fraction of the box inside the footprint, in (0, 1].
            Defaults to 1.0.
        threshold (int): Largest grey level counted as background. Defaults to 0.
        margin (int): Pixels eroded from the footprint before sampling, >= 0. Defaults to 1.
    """

    def __init__(self,
                 scale: Union[int, Sequence[int]],
                 crop_ratio_range: Sequence[float] = (0.08, 1.0),
                 aspect_ratio_range: Sequence[float] = (3. / 4., 4. / 3.),
                 max_attempts: int = 100,
                 interpolation: str = 'bilinear',
                 backend: str = 'cv2',
                 footprint: str = 'auto',
                 min_inside: float = 1.0,
                 threshold: int = 0,
                 margin: int = 1) -> None:
        self.scale = check_int_pair('scale', scale)
        self.crop_ratio_range = check_range('crop_ratio_range', crop_ratio_range, 1e-6, 1.0)
        self.aspect_ratio_range = check_range('aspect_ratio_range', aspect_ratio_range, 1e-6)
        max_attempts = check_int('max_attempts', max_attempts, low=0)
        check_choice('interpolation', interpolation, INTERPOLATIONS)
        check_choice('backend', backend, ('cv2', 'pillow'))
        check_choice('footprint', footprint, ('auto', ) + KINDS)
        min_inside = check_float('min_inside', min_inside, 0.0, 1.0, low_open=True)
        threshold = check_int('threshold', threshold, 0, 254)
        margin = check_int('margin', margin, low=0)
        self.max_attempts = int(max_attempts)
        self.interpolation = interpolation
        self.backend = backend
        self.footprint = footprint
        self.min_inside = float(min_inside)
        self.threshold = int(threshold)
        self.margin = int(margin)
        self._warned = False

    def footprint_mask(self, img: np.ndarray, where: str = '<no img_path>') -> np.ndarray:
        """The uint8 (0/1) footprint crops are sampled in, eroded by ``margin``."""
        try:
            mask = estimate_sector_mask(img, self.threshold)
        except ValueError as exc:
            raise ValueError(f'{type(self).__name__}: image {where}: {exc}') from None
        try:  # the model trims what is attached to the fan, the estimate what is black
            mask = fit_footprint(mask, self.footprint) & mask
        except ValueError as exc:
            if not self._warned:
                print_log(f'{type(self).__name__}: {exc} in image {where}; using the '
                          f'estimated footprint instead of a {self.footprint!r} model '
                          '(reported once)', logger='current', level=logging.WARNING)
                self._warned = True
        mask = mask.view(np.uint8)  # bool -> 0/1 bytes, no copy
        if self.margin:
            mask = cv2.erode(mask, np.ones((3, 3), np.uint8), iterations=self.margin,
                             borderType=cv2.BORDER_CONSTANT, borderValue=0)
        if not cv2.countNonZero(mask):
            raise ValueError(f'{type(self).__name__}: image {where}: the footprint is empty '
                             f'after eroding it by margin={self.margin}')
        return mask

    @cache_randomness
    def rand_crop_params(self, mask: np.ndarray) -> Tuple[int, int, int, int]:
        """Draw ``(top, left, height, width)`` of a box inside the footprint ``mask``."""
        h, w = mask.shape
        integral = cv2.integral(mask)
        n = self.max_attempts
        area = np.random.uniform(*self.crop_ratio_range, size=n) * integral[-1, -1]
        aspect = np.exp(np.random.uniform(*np.log(self.aspect_ratio_range), size=n))
        u_top, u_left = np.random.rand(n), np.random.rand(n)
        bw = np.rint(np.sqrt(area * aspect)).astype(np.int64)
        bh = np.rint(np.sqrt(area / aspect)).astype(np.int64)
        fits = (bw >= 1) & (bh >= 1) & (bw <= w) & (bh <= h)
        bw, bh = np.clip(bw, 1, w), np.clip(bh, 1, h)
        top = np.minimum((u_top * (h - bh + 1)).astype(np.int64), h - bh)
        left = np.minimum((u_left * (w - bw + 1)).astype(np.int64), w - bw)
        inside = (integral[top + bh, left + bw] - integral[top, left + bw]
                  - integral[top + bh, left] + integral[top, left])
        ok = fits & (inside >= np.ceil(self.min_inside * bh * bw - 1e-6))
        if ok.any():
            i = int(np.argmax(ok))
            return int(top[i]), int(left[i]), int(bh[i]), int(bw[i])
        return largest_square(mask)

    def transform(self, results: dict) -> dict:
        """Crop ``results['img']`` (and segmentation maps) inside the footprint and resize.

        Args:
            results (dict): Result dict with ``img``.

        Returns:
            dict: The result dict with the crop.
        """
        img = get_image(results, type(self).__name__)
        mask = self.footprint_mask(img, results.get('img_path', '<no img_path>'))
        top, left, bh, bw = self.rand_crop_params(mask)
        size = (self.scale[1], self.scale[0])  # mmcv.imresize takes (w, h)
        crop = img[top:top + bh, left:left + bw]
        results['img'] = mmcv.imresize(crop, size, interpolation=self.interpolation,
                                       backend=self.backend)
        results['img_shape'] = results['img'].shape[:2]
        keys = list(results.get('seg_fields', []))
        if 'gt_seg_map' in results and 'gt_seg_map' not in keys:
            keys.append('gt_seg_map')
        for key in keys:
            seg = results[key][top:top + bh, left:left + bw]
            results[key] = mmcv.imresize(seg, size, interpolation='nearest',
                                         backend=self.backend)
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(scale={self.scale}, '
                f'crop_ratio_range={self.crop_ratio_range}, '
                f'aspect_ratio_range={self.aspect_ratio_range}, '
                f'max_attempts={self.max_attempts}, interpolation={self.interpolation!r}, '
                f'backend={self.backend!r}, footprint={self.footprint!r}, '
                f'min_inside={self.min_inside}, threshold={self.threshold}, '
                f'margin={self.margin})')
