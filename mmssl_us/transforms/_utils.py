"""Image access and intensity helpers shared by the ultrasound transforms.

The argument checks live in :mod:`mmssl_us.validate`; :func:`check_prob` is the one the
transforms share.
"""
from typing import Sequence, Union

import cv2
import numpy as np

from ..validate import check_float

Range = Union[float, Sequence[float]]


def check_prob(prob: float) -> float:
    """Validate a probability of applying a transform.

    Args:
        prob (float): Probability in [0, 1].

    Returns:
        float: ``prob`` as a float.
    """
    return check_float('prob', prob, 0.0, 1.0)


def get_image(results: dict, owner: str, ndim: int = 2) -> np.ndarray:
    """Return ``results['img']`` after checking it is a uint8 image or volume.

    Args:
        results (dict): The pipeline's result dict.
        owner (str): Name of the calling transform, used in the error message.
        ndim (int): Spatial dimensions: 2 for an HxW or HxWxC image, 3 for a DxHxW or DxHxWxC
            volume. Defaults to 2.

    Returns:
        np.ndarray: The image (not copied).
    """
    where = results.get('img_path', '<no img_path>')
    if 'img' not in results:
        raise ValueError(f'{owner}: results has no "img" key (image {where})')
    img = results['img']
    layout = 'HxW or HxWxC image' if ndim == 2 else 'DxHxW or DxHxWxC volume'
    if not isinstance(img, np.ndarray) or img.dtype != np.uint8 or img.ndim not in (ndim,
                                                                                    ndim + 1):
        desc = (f'{img.dtype} array of shape {img.shape}' if isinstance(img, np.ndarray)
                else type(img).__name__)
        raise ValueError(f'{owner} expects a uint8 {layout}, got {desc} (image {where})')
    if min(img.shape[:ndim]) < 2:
        raise ValueError(f'{owner}: image {where} is too small: shape {img.shape}')
    return img


def to_uint8(values: np.ndarray) -> np.ndarray:
    """Clip float intensities to [0, 255] and round half up to uint8.

    Args:
        values (np.ndarray): Float intensities.

    Returns:
        np.ndarray: uint8 array of the same shape.
    """
    out = np.clip(values, 0.0, 255.0)
    out += 0.5
    return out.astype(np.uint8)


def apply_gain(img: np.ndarray, gain: np.ndarray) -> np.ndarray:
    """Multiply every channel of ``img`` by the same gain map and return uint8.

    Args:
        img (np.ndarray): uint8 image, HxW or HxWxC.
        gain (np.ndarray): float gain broadcastable to HxW (e.g. HxW, Hx1 or 1xW).

    Returns:
        np.ndarray: uint8 image of the same shape as ``img``.
    """
    gain = np.asarray(gain, dtype=np.float32)
    if img.ndim == 3:
        gain = gain[..., None]
    return to_uint8(img.astype(np.float32) * gain)


def apply_lut(img: np.ndarray, lut: np.ndarray) -> np.ndarray:
    """Map every pixel (or voxel) of a uint8 array through a 256-entry uint8 table.

    Args:
        img (np.ndarray): uint8 image or volume of any shape with at least two axes.
        lut (np.ndarray): uint8 table of 256 entries.

    Returns:
        np.ndarray: uint8 array of the same shape.
    """
    # cv2 sees a 2-D single-channel matrix whatever the layout; the map is element-wise
    flat = np.ascontiguousarray(img).reshape(img.shape[0], -1)
    out = cv2.LUT(flat, np.ascontiguousarray(lut, dtype=np.uint8).reshape(256))
    return out.reshape(img.shape)


def max_channel(img: np.ndarray) -> np.ndarray:
    """Per-pixel maximum over the channels (HxW); an HxW image is returned as is.

    Args:
        img (np.ndarray): HxW or HxWxC image.

    Returns:
        np.ndarray: HxW array.
    """
    if img.ndim == 2:
        return img
    out = img[..., 0].copy()
    for c in range(1, img.shape[2]):
        np.maximum(out, img[..., c], out=out)
    return out


def any_channel_above(img: np.ndarray, threshold: int) -> np.ndarray:
    """uint8 mask, 255 where some channel of a uint8 image exceeds ``threshold``.

    Args:
        img (np.ndarray): uint8 image, HxW or HxWxC.
        threshold (int): Grey level in [0, 255].

    Returns:
        np.ndarray: uint8 HxW mask of 0 and 255.
    """
    channels = 1 if img.ndim == 2 else img.shape[2]
    if channels > 4:  # cv2.inRange takes scalar bounds of at most four channels
        return (max_channel(img) > threshold).astype(np.uint8) * 255
    if threshold >= 255:
        return np.zeros(img.shape[:2], dtype=np.uint8)
    background = cv2.inRange(img, (0, ) * channels, (int(threshold), ) * channels)
    return cv2.bitwise_not(background).reshape(img.shape[:2])
