"""Checks of image/mask pairs, run once when a dataset is built (before training starts).

A wrong mask (other size, stray label values, three channels) does not crash mmseg: it gives a
quietly wrong mIoU. These checks stop with an error that names the file instead.

Cost: the image is only opened for its header (PIL reads the size without decoding the pixels);
the mask is decoded once, with PIL as mmseg's ``LoadAnnotations`` does by default (so palette
PNGs are read as indices, exactly as training will see them). Results are cached per process,
keyed by path, size and modification time, so the same file is not decoded twice when the
train, val and test datasets (or several runs in one process) are built.
"""
from __future__ import annotations

import os
from typing import Dict, Iterable, Optional, Sequence, Tuple

import numpy as np
from PIL import Image, UnidentifiedImageError

__all__ = ['image_size', 'mask_summary', 'check_pairs', 'check_split_overlap', 'clear_cache']

# (path, st_size, st_mtime_ns) -> (height, width, sorted label values)
_MASK_CACHE: Dict[Tuple[str, int, int], Tuple[int, int, Tuple[int, ...]]] = {}


def clear_cache() -> None:
    """Forget the cached mask summaries."""
    _MASK_CACHE.clear()


def _stat_key(path: str) -> Tuple[str, int, int]:
    st = os.stat(path)
    return (os.path.abspath(path), st.st_size, st.st_mtime_ns)


def image_size(path: str, decode: bool = False) -> Tuple[int, int]:
    """Height and width of an image from its header (or after decoding all its pixels).

    Args:
        path (str): Image file.
        decode (bool): Decode the whole image, so that a truncated file is found now rather
            than when it is first read in training or evaluation. Defaults to False.

    Returns:
        tuple[int, int]: ``(height, width)``.
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f'image not found: {path}')
    try:
        with Image.open(path) as img:
            width, height = img.size
            mode = img.mode
            if decode:
                img.load()
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise ValueError(f'unreadable image file {path}: {exc}') from None
    if mode.startswith(('I;16', 'I', 'F')):
        # mmseg's LoadImageFromFile would read it as 8-bit by dropping the low byte: a 12-bit
        # export (0-4095) would train as a near-black frame (0-15)
        raise ValueError(f'image {path} has {mode} pixels (more than 8 bits): the fine-tuning '
                         'pipeline reads 8-bit images; convert it to 8 bits at its full range '
                         '(e.g. v * 255 / max)')
    return height, width


def mask_summary(path: str) -> Tuple[int, int, Tuple[int, ...]]:
    """Decode a label map once and return its size and the label values it contains.

    Args:
        path (str): Mask file (single-channel 8-bit).

    Returns:
        tuple: ``(height, width, values)`` with ``values`` sorted.
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f'mask not found: {path}')
    key = _stat_key(path)
    if key in _MASK_CACHE:
        return _MASK_CACHE[key]
    try:
        with Image.open(path) as img:
            arr = np.asarray(img)
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise ValueError(f'unreadable mask file {path}: {exc}') from None
    if arr.ndim != 2:
        raise ValueError(f'mask {path} has shape {arr.shape}: label maps must be single-channel '
                         '(one label per pixel), not RGB')
    if arr.dtype == bool:
        arr = arr.astype(np.uint8)
    if arr.dtype != np.uint8:
        if arr.size and (arr.min() < 0 or arr.max() > 255):
            raise ValueError(f'mask {path} has values in [{arr.min()}, {arr.max()}] '
                             f'(dtype {arr.dtype}): mmseg reads label maps as uint8')
        arr = arr.astype(np.uint8)
    values = tuple(int(v) for v in np.flatnonzero(np.bincount(arr.ravel(), minlength=256)))
    summary = (int(arr.shape[0]), int(arr.shape[1]), values)
    _MASK_CACHE[key] = summary
    return summary


def check_pairs(pairs: Sequence[Tuple[str, Optional[str]]], allowed: Iterable[int],
                where: str, decode_images: bool = False) -> None:
    """Check image/mask pairs: both readable, same size, mask values in ``allowed``.

    Args:
        pairs (Sequence[tuple[str, str | None]]): ``(image, mask)`` paths; ``mask`` may be
            None for datasets without labels (then only the image header is read).
        allowed (Iterable[int]): Permitted raw label values (the ignore index included).
        where (str): Name of the folder or split, for the error messages.
        decode_images (bool): Decode every image too (a truncated file is found before
            training, not in the evaluation after it). Defaults to False.

    Raises:
        FileNotFoundError: An image without its mask (or a missing image).
        ValueError: Unreadable file, size mismatch or label values outside ``allowed``.
    """
    if len(pairs) == 0:
        raise ValueError(f'no images found in {where}')
    allowed = set(int(v) for v in allowed)
    for img_path, mask_path in pairs:
        h, w = image_size(img_path, decode=decode_images)
        if mask_path is None:
            continue
        if not os.path.isfile(mask_path):
            raise FileNotFoundError(f'image {img_path} has no mask: expected {mask_path}')
        mh, mw, values = mask_summary(mask_path)
        if (mh, mw) != (h, w):
            raise ValueError(f'mask {mask_path} is {mh}x{mw} (HxW) but its image {img_path} '
                             f'is {h}x{w}')
        if 255 in values and set(values) <= {0, 255} and len(allowed - {255}) == 2:
            raise ValueError(
                f'mask {mask_path} holds only the values 0 and 255, but this dataset\'s classes '
                'are 0 and 1 and 255 is the ignore index: the foreground would be ignored and '
                'the mIoU would read 100. Save the masks as 0/1 (e.g. with OpenCV: '
                "cv2.imwrite(path, (cv2.imread(path, 0) > 127).astype('uint8'))) for every "
                f'mask in {where}')
        bad = sorted(set(values) - allowed)
        if bad:
            raise ValueError(f'mask {mask_path} has label values {bad} outside the allowed '
                             f'values {sorted(allowed)} (class indices and the ignore index)')


SPLITS = ('train', 'val', 'test')


def check_split_overlap(img_dir: str, patient_of, suffix: str) -> None:
    """Stop when the split in ``img_dir`` shares a patient or an identical file with one of its
    sibling splits (``<...>/train`` against ``<...>/val`` and ``<...>/test``).

    Args:
        img_dir (str): The split's image folder; its name must be train, val or test
            (otherwise nothing is checked).
        patient_of (Callable[[str], str]): Patient id of an image path.
        suffix (str): Image file suffix.

    Raises:
        ValueError: naming the shared patients or files and both splits.
    """
    from mmssl_us.data.media import file_md5
    name = os.path.basename(os.path.normpath(img_dir))
    parent = os.path.dirname(os.path.normpath(img_dir))
    if name not in SPLITS:
        return

    def listing(folder):
        return sorted(os.path.join(folder, f) for f in os.listdir(folder) if f.endswith(suffix))

    mine = listing(img_dir)
    my_patients = {patient_of(p): p for p in mine}
    my_hashes = None
    for other in SPLITS:
        folder = os.path.join(parent, other)
        if other == name or not os.path.isdir(folder):
            continue
        theirs = listing(folder)
        shared = sorted(set(my_patients) & {patient_of(p) for p in theirs})
        if shared:
            raise ValueError(f'splits {name} and {other} under {parent} share '
                             f'{len(shared)} patient(s), e.g. {shared[:5]} '
                             f'({my_patients[shared[0]]}): a patient must be in one split '
                             'only, or the test scores measure memory')
        if my_hashes is None:
            my_hashes = {file_md5(p): p for p in mine}
        for p in theirs:
            twin = my_hashes.get(file_md5(p))
            if twin is not None:
                raise ValueError(f'{p} ({other}) is byte-identical to {twin} ({name}): an '
                                 'image must be in one split only')
