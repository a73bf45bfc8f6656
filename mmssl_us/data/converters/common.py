"""Small helpers shared by the dataset converters."""
import os
import os.path as osp
from typing import Any, Dict

import cv2
import numpy as np

__all__ = ['SPLITS', 'write_png', 'write_pair', 'to_uint8', 'claim_output', 'record_output',
           'RECORD']

SPLITS = ('train', 'val', 'test')
#: the settings a converted dataset was made with, in its root
RECORD = 'conversion.json'


def _read_record(out: str) -> Any:
    """The conversion record of ``out`` (None where there is none)."""
    from ...records import read_record
    return read_record(osp.join(out, RECORD))


def claim_output(out: str, settings: Dict[str, Any]) -> bool:
    """Check that converting with ``settings`` into ``out`` cannot mix two datasets.

    An empty or missing ``out`` is fine; so is one converted before with the same settings
    (then True is returned: the data is already there). Anything else (other settings, e.g.
    another split seed, or files this converter did not record) is refused: re-converting on
    top of it would leave old files in place and could put one patient in two splits.

    Raises:
        ValueError: naming the folder and the settings that differ.
    """
    from ...records import normalise
    old = _read_record(out)
    if old == normalise(settings):
        return True
    has_data = any(osp.isdir(osp.join(out, d)) and os.listdir(osp.join(out, d))
                   for d in ('images', 'masks'))
    if old is not None and has_data:
        from ...records import describe, differing_keys
        raise ValueError(f'{out} was converted with other settings ('
                         + describe(differing_keys(old, normalise(settings)))
                         + '): converting again into it would mix the two (a patient could '
                         'end up in two splits). Write to a new folder, or delete this one')
    if has_data:
        raise ValueError(f'{out} already holds images or masks that this converter did not '
                         f'record ({RECORD} missing): write to a new folder, or delete it')
    return False


def record_output(out: str, settings: Dict[str, Any]) -> None:
    """Record the settings of a finished conversion (see :func:`claim_output`)."""
    from ...records import write_record
    write_record(osp.join(out, RECORD), settings)


def write_png(path: str, array: np.ndarray) -> None:
    """Write an 8-bit PNG atomically, creating the folder; raise naming the file if OpenCV
    cannot encode it."""
    from ...fileio import atomic_write
    if array.dtype != np.uint8:
        raise ValueError(f'{path}: expected uint8 data, got {array.dtype}')
    ok, encoded = cv2.imencode('.png', array)
    if not ok:
        raise OSError(f'could not encode {path} as PNG')
    atomic_write(path, encoded.tobytes())


def write_pair(out_dir: str, split: str, name: str, image: np.ndarray, mask: np.ndarray) -> None:
    """Write ``images/<split>/<name>.png`` and ``masks/<split>/<name>.png`` under ``out_dir``.

    Args:
        out_dir (str): Dataset root.
        split (str): 'train', 'val' or 'test'.
        name (str): File stem.
        image (np.ndarray): HxW uint8 grey image.
        mask (np.ndarray): HxW uint8 label map of the same size.
    """
    if split not in SPLITS:
        raise ValueError(f'split must be one of {SPLITS}, got {split!r}')
    if image.shape[:2] != mask.shape[:2] or mask.ndim != 2:
        raise ValueError(f'{name}: image {image.shape} and mask {mask.shape} differ')
    write_png(osp.join(out_dir, 'images', split, name + '.png'), image)
    write_png(osp.join(out_dir, 'masks', split, name + '.png'), mask)


def to_uint8(image: np.ndarray, source: str) -> np.ndarray:
    """Grey image as uint8: kept when already 8-bit or in [0, 255], min-max scaled otherwise.

    Args:
        image (np.ndarray): HxW image of any numeric dtype.
        source (str): File name for error messages.

    Returns:
        np.ndarray: HxW uint8 image.
    """
    if image.dtype == np.uint8:
        return image
    arr = image.astype(np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f'{source}: image has non-finite values')
    lo, hi = float(arr.min()), float(arr.max())
    if lo >= 0 and hi <= 255:
        return np.round(arr).astype(np.uint8)
    if hi == lo:
        return np.zeros(arr.shape, np.uint8)
    return np.round((arr - lo) / (hi - lo) * 255).astype(np.uint8)
