"""Display mapping: log compression with another dynamic range, and overall gain.

B-mode pixels are log-compressed echo envelopes. We model the display map of a scanner as
``y = log(1 + c * e) / log(1 + c)`` with ``c = 10 ** (DR / 20)``, where ``e`` in [0, 1] is
the envelope relative to saturation, ``y`` in [0, 1] is the pixel value / 255 and ``DR`` is
the dynamic range in dB. The map sends 0 to 0 and 1 to 1 and is logarithmic for
``e >> 1 / c``. Both transforms invert it with the assumed input range ``in_dr_db``, change
the envelope or the range, and map back through a 256-entry look-up table.
"""
from typing import Sequence, Tuple, Union

import numpy as np
from mmcv.transforms import BaseTransform
from mmcv.transforms.utils import cache_randomness
from mmengine.registry import TRANSFORMS

from ..validate import check_float, check_range
from ._utils import apply_lut, check_prob, get_image


def compress(envelope: np.ndarray, dr_db: float) -> np.ndarray:
    """Map an envelope to display values: ``log(1 + c e) / log(1 + c)``.

    Args:
        envelope (np.ndarray): Envelope in [0, 1] relative to saturation.
        dr_db (float): Dynamic range in dB; ``c = 10 ** (dr_db / 20)``.

    Returns:
        np.ndarray: Display values in [0, 1] (float64).
    """
    c = 10.0**(dr_db / 20.0)
    return np.log1p(c * np.asarray(envelope, dtype=np.float64)) / np.log1p(c)


def expand(display: np.ndarray, dr_db: float) -> np.ndarray:
    """Invert :func:`compress`: display values back to the envelope.

    Args:
        display (np.ndarray): Display values in [0, 1] (pixel / 255).
        dr_db (float): Dynamic range in dB.

    Returns:
        np.ndarray: Envelope in [0, 1] (float64).
    """
    c = 10.0**(dr_db / 20.0)
    return np.expm1(np.asarray(display, dtype=np.float64) * np.log1p(c)) / c


def _to_lut(display: np.ndarray) -> np.ndarray:
    """Turn display values in [0, 1] into a uint8 table (clip, round half up)."""
    return np.floor(np.clip(display, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


_LEVELS = np.arange(256, dtype=np.float64) / 255.0


@TRANSFORMS.register_module()
class LogCompression(BaseTransform):
    """Re-display the image with a random dynamic range.

    Pixels are expanded to envelopes with the assumed range ``in_dr_db`` and compressed
    again with a range drawn from ``dr_db``. A wider range shows weaker echoes (a greyer,
    flatter image), a narrower one raises contrast. 0 stays 0 and 255 stays 255; the map
    is monotonic and the identity when both ranges are equal.

    Required Keys:

    - img

    Modified Keys:

    - img

    Args:
        dr_db (float | Sequence[float]): Output dynamic range in dB, or a ``(min, max)``
            range to draw it from uniformly; > 0. Defaults to (45.0, 75.0).
        in_dr_db (float): Dynamic range in dB assumed for the input image; > 0.
            Defaults to 60.0.
        prob (float): Probability of applying the transform. Defaults to 0.5.
    """

    def __init__(self,
                 dr_db: Union[float, Sequence[float]] = (45.0, 75.0),
                 in_dr_db: float = 60.0,
                 prob: float = 0.5) -> None:
        self.dr_db = check_range('dr_db', dr_db, low=1e-3)
        self.in_dr_db = check_float('in_dr_db', in_dr_db, low=1e-3)
        self.prob = check_prob(prob)

    def table(self, dr_db: float) -> np.ndarray:
        """The 256-entry uint8 look-up table for the output range ``dr_db``."""
        return _to_lut(compress(expand(_LEVELS, self.in_dr_db), dr_db))

    @cache_randomness
    def _random_params(self) -> Tuple[bool, float]:
        """Draw (apply, output dynamic range)."""
        return bool(np.random.rand() < self.prob), float(np.random.uniform(*self.dr_db))

    def transform(self, results: dict) -> dict:
        """Re-compress ``results['img']``.

        Args:
            results (dict): Result dict with ``img``.

        Returns:
            dict: The result dict with the re-compressed image.
        """
        img = get_image(results, type(self).__name__)
        apply, dr_db = self._random_params()
        if apply:
            results['img'] = apply_lut(img, self.table(dr_db))
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(dr_db={self.dr_db}, in_dr_db={self.in_dr_db}, '
                f'prob={self.prob})')


@TRANSFORMS.register_module()
class GainChange(BaseTransform):
    """Change the receiver gain by a random number of dB.

    The gain multiplies the envelope before log compression (as the gain knob of a scanner
    does): ``y' = compress(min(1, g * expand(y)))`` with ``g = 10 ** (gain / 20)`` and the
    assumed range ``in_dr_db``. Bright echoes shift by about ``gain / in_dr_db * 255``
    grey levels and saturate at 255; 0 stays 0 and the map is monotonic.

    Required Keys:

    - img

    Modified Keys:

    - img

    Args:
        gain_db (float | Sequence[float]): Gain in dB, or a ``(min, max)`` range to draw
            it from uniformly. Defaults to (-6.0, 6.0).
        in_dr_db (float): Dynamic range in dB assumed for the input image; > 0.
            Defaults to 60.0.
        prob (float): Probability of applying the transform. Defaults to 0.5.
    """

    def __init__(self,
                 gain_db: Union[float, Sequence[float]] = (-6.0, 6.0),
                 in_dr_db: float = 60.0,
                 prob: float = 0.5) -> None:
        self.gain_db = check_range('gain_db', gain_db)
        self.in_dr_db = check_float('in_dr_db', in_dr_db, low=1e-3)
        self.prob = check_prob(prob)

    def table(self, gain_db: float) -> np.ndarray:
        """The 256-entry uint8 look-up table for a gain of ``gain_db``."""
        envelope = np.minimum(1.0, 10.0**(gain_db / 20.0) * expand(_LEVELS, self.in_dr_db))
        return _to_lut(compress(envelope, self.in_dr_db))

    @cache_randomness
    def _random_params(self) -> Tuple[bool, float]:
        """Draw (apply, gain in dB)."""
        return bool(np.random.rand() < self.prob), float(np.random.uniform(*self.gain_db))

    def transform(self, results: dict) -> dict:
        """Apply the gain to ``results['img']``.

        Args:
            results (dict): Result dict with ``img``.

        Returns:
            dict: The result dict with the re-gained image.
        """
        img = get_image(results, type(self).__name__)
        apply, gain_db = self._random_params()
        if apply:
            results['img'] = apply_lut(img, self.table(gain_db))
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(gain_db={self.gain_db}, in_dr_db={self.in_dr_db}, '
                f'prob={self.prob})')
