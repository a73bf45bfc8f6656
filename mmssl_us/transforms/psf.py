"""Anisotropic point-spread-function blur."""
import math
from typing import Sequence, Tuple, Union

import cv2
import numpy as np
from mmcv.transforms import BaseTransform
from mmcv.transforms.utils import cache_randomness
from mmengine.registry import TRANSFORMS

from ..validate import check_float, check_range
from ._utils import check_prob, get_image

#: Half-width of the sampled Gaussian kernel, in standard deviations.
TRUNCATE = 4.0


def gaussian_kernel(sigma: float) -> np.ndarray:
    """A normalised, sampled 1-D Gaussian of standard deviation ``sigma`` pixels.

    The kernel spans ``+-ceil(TRUNCATE * sigma)`` pixels; ``sigma == 0`` gives ``[1]``.

    Args:
        sigma (float): Standard deviation in pixels, >= 0.

    Returns:
        np.ndarray: float32 kernel of odd length summing to 1.
    """
    check_float('sigma', sigma, low=0)
    radius = int(math.ceil(TRUNCATE * sigma))
    if radius == 0:
        return np.ones(1, dtype=np.float32)
    x = np.arange(-radius, radius + 1, dtype=np.float64)
    k = np.exp(-0.5 * (x / sigma)**2)
    return (k / k.sum()).astype(np.float32)


@TRANSFORMS.register_module()
class AnisotropicPSFBlur(BaseTransform):
    """Blur with a Gaussian point-spread function of separate axial and lateral widths.

    An ultrasound PSF is short along the beam (axial resolution, set by the pulse length)
    and wider across it (lateral resolution, set by the aperture and focus), so the lateral
    sigma is usually the larger. Axial is the vertical (row) direction, lateral the
    horizontal one. The separable kernel is sampled to ``+-4 sigma`` and normalised, so
    mean intensity is kept; borders are mirrored (``cv2.BORDER_REFLECT_101``).
    Every channel is blurred alike.

    Required Keys:

    - img

    Modified Keys:

    - img

    Args:
        axial_sigma (float | Sequence[float]): Axial standard deviation in pixels, or a
            ``(min, max)`` range to draw it from uniformly; >= 0. Defaults to (0.3, 1.0).
        lateral_sigma (float | Sequence[float]): Lateral standard deviation in pixels, or a
            ``(min, max)`` range; >= 0. Defaults to (0.5, 2.0).
        prob (float): Probability of applying the transform. Defaults to 0.5.
    """

    def __init__(self,
                 axial_sigma: Union[float, Sequence[float]] = (0.3, 1.0),
                 lateral_sigma: Union[float, Sequence[float]] = (0.5, 2.0),
                 prob: float = 0.5) -> None:
        self.axial_sigma = check_range('axial_sigma', axial_sigma, low=0.0)
        self.lateral_sigma = check_range('lateral_sigma', lateral_sigma, low=0.0)
        self.prob = check_prob(prob)

    @cache_randomness
    def _random_params(self) -> Tuple[bool, float, float]:
        """Draw (apply, axial sigma, lateral sigma)."""
        apply = bool(np.random.rand() < self.prob)
        return (apply, float(np.random.uniform(*self.axial_sigma)),
                float(np.random.uniform(*self.lateral_sigma)))

    def transform(self, results: dict) -> dict:
        """Blur ``results['img']``.

        Args:
            results (dict): Result dict with ``img``.

        Returns:
            dict: The result dict with the blurred image.
        """
        img = get_image(results, type(self).__name__)
        apply, axial, lateral = self._random_params()
        if not apply:
            return results
        out = cv2.sepFilter2D(img, -1, gaussian_kernel(lateral), gaussian_kernel(axial),
                              borderType=cv2.BORDER_REFLECT_101)
        results['img'] = out.reshape(img.shape)
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(axial_sigma={self.axial_sigma}, '
                f'lateral_sigma={self.lateral_sigma}, prob={self.prob})')
