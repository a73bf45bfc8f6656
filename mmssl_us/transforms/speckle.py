"""Multiplicative speckle noise."""
import math
from typing import Sequence, Tuple, Union

import numpy as np
from mmcv.transforms import BaseTransform
from mmcv.transforms.utils import cache_randomness
from mmengine.registry import TRANSFORMS

from ..validate import check_choice, check_range
from ._utils import apply_gain, check_prob, get_image

#: Coefficient of variation (std / mean) of a Rayleigh variable: sqrt(4 / pi - 1).
RAYLEIGH_CV = math.sqrt(4.0 / math.pi - 1.0)
DISTRIBUTIONS = ('rayleigh', 'gamma')


def speckle_multiplier(shape: Tuple[int, ...], sigma: float, distribution: str,
                       rng: np.random.Generator) -> np.ndarray:
    """Draw a unit-mean multiplier field with variance ``sigma**2``.

    * ``'gamma'``: ``Gamma(shape=1/sigma^2, scale=sigma^2)``; ``sigma=1`` is the exponential
      law of fully developed speckle intensity.
    * ``'rayleigh'``: ``(1 - a) + a * R / E[R]`` with ``R`` Rayleigh and
      ``a = sigma / RAYLEIGH_CV``: a blend of the clean value (``a=0``) and fully developed
      envelope speckle (``a=1``), hence ``sigma <= RAYLEIGH_CV`` (about 0.523).

    Args:
        shape (tuple[int, ...]): Shape of the field.
        sigma (float): Standard deviation of the multiplier.
        distribution (str): ``'rayleigh'`` or ``'gamma'``.
        rng (np.random.Generator): Source of randomness.

    Returns:
        np.ndarray: float32 field of the given shape.
    """
    check_choice('distribution', distribution, DISTRIBUTIONS)
    if sigma == 0:
        return np.ones(shape, dtype=np.float32)
    if distribution == 'gamma':
        var = sigma * sigma
        return rng.standard_gamma(1.0 / var, size=shape, dtype=np.float32) * np.float32(var)
    if sigma > RAYLEIGH_CV + 1e-9:
        raise ValueError(f'rayleigh speckle needs sigma <= {RAYLEIGH_CV:.4f}, got {sigma}')
    blend = np.float32(sigma / RAYLEIGH_CV)
    # R = sqrt(2 E) with E ~ Exp(1) is Rayleigh with unit scale and mean sqrt(pi / 2).
    env = np.sqrt(2.0 * rng.standard_exponential(size=shape, dtype=np.float32))
    return (1.0 - blend) + blend * env * np.float32(1.0 / math.sqrt(math.pi / 2.0))


@TRANSFORMS.register_module()
class SpeckleNoise(BaseTransform):
    """Multiply the image by a random unit-mean speckle field.

    Speckle is the granular texture made by the interference of echoes from sub-resolution
    scatterers. Each pixel value ``I`` becomes ``I * m`` with ``E[m] = 1`` and
    ``Var[m] = sigma^2``, so a flat region of value ``mu`` keeps its mean and gains the
    variance ``mu^2 * sigma^2`` (before clipping to [0, 255] and rounding). One field is drawn
    per image and shared by all channels. The field is white; its grain (correlation length)
    comes from a following :class:`AnisotropicPSFBlur`, as echoes are blurred by the
    point-spread function in a scanner.

    The parameters are drawn from numpy's global RNG (``np.random``), so ``np.random.seed``
    and mmengine's seeding make the output reproducible.

    Required Keys:

    - img

    Modified Keys:

    - img

    Args:
        sigma (float | Sequence[float]): Standard deviation of the multiplier, or a
            ``(min, max)`` range to draw it from uniformly. For ``'rayleigh'`` at most
            :data:`RAYLEIGH_CV`. Defaults to (0.05, 0.3).
        distribution (str): ``'rayleigh'`` (envelope statistics) or ``'gamma'``.
            Defaults to 'rayleigh'.
        prob (float): Probability of applying the transform. Defaults to 0.5.
    """

    def __init__(self,
                 sigma: Union[float, Sequence[float]] = (0.05, 0.3),
                 distribution: str = 'rayleigh',
                 prob: float = 0.5) -> None:
        check_choice('distribution', distribution, DISTRIBUTIONS)
        high = RAYLEIGH_CV if distribution == 'rayleigh' else None
        self.sigma = check_range('sigma', sigma, low=0.0, high=high)
        self.distribution = distribution
        self.prob = check_prob(prob)

    @cache_randomness
    def _random_params(self) -> Tuple[bool, float, int]:
        """Draw (apply, sigma, seed of the noise field)."""
        apply = bool(np.random.rand() < self.prob)
        sigma = float(np.random.uniform(*self.sigma))
        seed = int(np.random.randint(0, 2**31 - 1))
        return apply, sigma, seed

    def transform(self, results: dict) -> dict:
        """Apply speckle to ``results['img']``.

        Args:
            results (dict): Result dict with ``img``.

        Returns:
            dict: The result dict with the speckled image.
        """
        img = get_image(results, type(self).__name__)
        apply, sigma, seed = self._random_params()
        if not apply:
            return results
        field = speckle_multiplier(img.shape[:2], sigma, self.distribution,
                                   np.random.default_rng(seed))
        results['img'] = apply_gain(img, field)
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(sigma={self.sigma}, '
                f'distribution={self.distribution!r}, prob={self.prob})')
