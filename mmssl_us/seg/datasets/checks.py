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
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np
from PIL import Image, UnidentifiedImageError

__all__ = ['stored_orientation', 'exif_orientation', 'image_size', 'mask_summary', 'mask_pixels', 'check_pairs', 'check_split_overlap',
           'class_counts', 'check_class_presence', 'clear_cache']

# (path, st_size, st_mtime_ns) -> (height, width, sorted label values, pixels per value)
_MASK_CACHE: Dict[Tuple[str, int, int],
                  Tuple[int, int, Tuple[int, ...], Tuple[int, ...]]] = {}


# image path -> its EXIF orientation tag, noted by image_size (for the messages)
_ORIENTATION: Dict[str, int] = {}


def clear_cache() -> None:
    """Forget the cached mask summaries."""
    _MASK_CACHE.clear()


def _stat_key(path: str) -> Tuple[str, int, int]:
    st = os.stat(path)
    return (os.path.abspath(path), st.st_size, st.st_mtime_ns)


#: mmcv's LoadImageFromFile flags -> the same without EXIF rotation (mmcv.imfrombytes)
_IGNORE_ORIENTATION = {'color': 'color_ignore_orientation',
                       'grayscale': 'grayscale_ignore_orientation'}
_FILE_LOADERS = ('LoadImageFromFile', 'mmcv.LoadImageFromFile', 'mmseg.LoadImageFromFile')


def stored_orientation(pipeline):
    """The one orientation rule of mmssl_us: pixels as stored, EXIF orientation ignored.

    Masks are label maps that mmseg reads as stored (``flag='unchanged'``), the build-time
    checks read sizes with PIL and the leakage check decodes with OpenCV's ``IMREAD_UNCHANGED``
    (both as stored), but mmcv's ``LoadImageFromFile`` (``color_type='color'``) turns a JPEG by
    its EXIF orientation tag: the image would no longer lie on its mask. This returns the
    pipeline with every file loader's ``color_type`` set to its ``*_ignore_orientation`` flag
    (dict steps only; other steps untouched).
    """
    if pipeline is None:
        return pipeline
    out = []
    for step in pipeline:
        if isinstance(step, dict) and str(step.get('type', '')) in _FILE_LOADERS:
            step = dict(step)
            flag = step.get('color_type', 'color')
            step['color_type'] = _IGNORE_ORIENTATION.get(flag, flag)
        out.append(step)
    return out


def exif_orientation(img) -> int:
    """The EXIF orientation tag (1 = as stored) of an open PIL image."""
    try:
        return int(img.getexif().get(0x0112, 1) or 1)
    except Exception:  # a malformed EXIF block is no orientation
        return 1


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
            _ORIENTATION[os.path.abspath(path)] = exif_orientation(img)
            if decode:
                img.load()
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise ValueError(f'unreadable image file {path}: {exc}') from None
    if mode.startswith(('I;16', 'I', 'F')):
        # LoadUltrasoundFrame could scale it, but only from a depth it is told (bit_depth):
        # the file does not say whether its 16 bits hold 16-bit or 12-bit data, and a wrong
        # guess trains a 12-bit export (0-4095) on near-black frames without an error. The
        # advice follows the one reading rule (mmssl_us.data.media.to_grey_uint8): scale from
        # the bit depth, never from each image's maximum
        raise ValueError(f'image {path} has {mode} pixels (more than 8 bits): the fine-tuning '
                         'datasets take 8-bit images, because a 16-bit file does not say how '
                         'many of its bits hold data (12-bit exports read as 16-bit train on '
                         'near-black frames); convert it to 8 bits at its full range from its '
                         'bit depth, v * 255 / (2**bits - 1) with bits = 16 (or the depth its '
                         'data really has, e.g. 12), the rule pretraining reads by '
                         '(mmssl_us.data.media.to_grey_uint8), not from each image\'s maximum')
    return height, width


def mask_summary(path: str) -> Tuple[int, int, Tuple[int, ...]]:
    """Decode a label map once and return its size and the label values it contains.

    Args:
        path (str): Mask file (single-channel 8-bit).

    Returns:
        tuple: ``(height, width, values)`` with ``values`` sorted.
    """
    return _mask_record(path)[:3]


def mask_pixels(path: str) -> Dict[int, int]:
    """Pixels per raw label value of a mask (decoded once, cached with :func:`mask_summary`).

    Args:
        path (str): Mask file.

    Returns:
        dict[int, int]: Value -> number of pixels, for the values present.
    """
    _, _, values, pixels = _mask_record(path)
    return dict(zip(values, pixels))


def _mask_record(path: str) -> Tuple[int, int, Tuple[int, ...], Tuple[int, ...]]:
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
    hist = np.bincount(arr.ravel(), minlength=256)
    present = np.flatnonzero(hist)
    values = tuple(int(v) for v in present)
    summary = (int(arr.shape[0]), int(arr.shape[1]), values,
               tuple(int(hist[v]) for v in present))
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
            tag = _ORIENTATION.get(os.path.abspath(img_path), 1)
            if tag != 1:
                raise ValueError(
                    f'mask {mask_path} is {mh}x{mw} (HxW) but its image {img_path} is {h}x{w} '
                    f'as stored; the image carries EXIF orientation {tag} (viewers show it '
                    'turned) and the tools read pixels as stored, EXIF ignored: save the image '
                    'with its turn applied and no tag (e.g. PIL: ImageOps.exif_transpose(img)'
                    '.save(path)), or its mask as stored')
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

    Each split is listed at any depth, as mmseg lists a dataset's images, and patients are
    compared by the one rule of :func:`mmssl_us.data.splits.shared_patients` (ids case-folded),
    the rule of the leakage report and of a folder study's view.

    Args:
        img_dir (str): The split's image folder; its name must be train, val or test
            (otherwise nothing is checked).
        patient_of (Callable[[str], str]): Patient id of an image path.
        suffix (str): Image file suffix.

    Raises:
        ValueError: naming the shared patients or files and both splits.
    """
    from ...data.media import file_md5
    from ...data.splits import shared_patients
    name = os.path.basename(os.path.normpath(img_dir))
    parent = os.path.dirname(os.path.normpath(img_dir))
    if name not in SPLITS:
        return

    def listing(folder):
        return sorted(os.path.join(root, f) for root, _, files in os.walk(folder, followlinks=True)
                      for f in files if f.endswith(suffix))

    mine = listing(img_dir)
    my_hashes = None
    for other in SPLITS:
        folder = os.path.join(parent, other)
        if other == name or not os.path.isdir(folder):
            continue
        theirs = listing(folder)
        for shared in shared_patients({name: mine, other: theirs}, patient_of):
            raise ValueError(f'splits {name} and {other} under {parent} share '
                             f'{len(shared.ids)} patient(s), e.g. {shared.ids[:5]} '
                             f'({shared.example[0]}): a patient must be in one split '
                             'only, or the test scores measure memory')
        if my_hashes is None:
            my_hashes = {file_md5(p): p for p in mine}
        for p in theirs:
            twin = my_hashes.get(file_md5(p))
            if twin is not None:
                raise ValueError(f'{p} ({other}) is byte-identical to {twin} ({name}): an '
                                 'image must be in one split only')


def class_counts(mask_paths: Sequence[str], classes: Sequence[str],
                 reduce_zero_label: bool = False, label_map: Optional[Dict[int, int]] = None,
                 ignore_index: int = 255) -> Dict[str, Dict[str, int]]:
    """How often each class occurs in a set of masks, as training and evaluation see it (raw
    values mapped as mmseg's ``LoadAnnotations`` does: ``reduce_zero_label``, then
    ``label_map``; the ignore index counts for no class). Reuses the cached mask decodes.

    Args:
        mask_paths (Sequence[str]): The masks of one split.
        classes (Sequence[str]): Class names; class ``i`` is ``classes[i]``.
        reduce_zero_label (bool): Raw 0 is ignored and raw ``v`` is class ``v - 1``.
        label_map (dict[int, int], optional): Raw -> class index (255: dropped).
        ignore_index (int): The ignored raw value. Defaults to 255.

    Returns:
        dict[str, dict[str, int]]: Class name -> ``images`` (masks holding it) and ``pixels``.
    """
    out = {name: dict(images=0, pixels=0) for name in classes}
    for path in mask_paths:
        for value, n in mask_pixels(path).items():
            if value == ignore_index:
                continue
            if reduce_zero_label:
                if value == 0:
                    continue
                value -= 1
            if label_map:
                value = label_map.get(value, value)
            if not 0 <= value < len(classes) or value == ignore_index:
                continue
            out[classes[value]]['images'] += 1
            out[classes[value]]['pixels'] += n
    return out


def check_class_presence(counts: Dict[str, Dict[str, int]], n_masks: int, where: str,
                         allow_absent: Sequence[str] = ()) -> List[str]:
    """Stop when a class occurs in no mask of a split, unless the user listed it.

    A class absent from the evaluation split has an IoU of NaN that mmseg leaves out of the
    mean (a split without foreground even reads mIoU 100); one absent from the training split
    is never learnt.

    Args:
        counts (dict): :func:`class_counts` of the split.
        n_masks (int): Masks in the split.
        where (str): The split's mask folder, for the message.
        allow_absent (Sequence[str]): Classes that may be absent (reported, not refused).

    Returns:
        list[str]: The absent classes that ``allow_absent`` lets through (to be reported).

    Raises:
        ValueError: naming the split folder, the class and the counts of every class.
    """
    absent = [name for name, c in counts.items() if c['images'] == 0]
    refused = [name for name in absent if name not in set(allow_absent)]
    if refused:
        shown = ', '.join(f'{name} in {c["images"]}' for name, c in counts.items())
        names = ', '.join(repr(n) for n in refused)
        raise ValueError(
            f'class{"es" if len(refused) > 1 else ""} {names} occur{"" if len(refused) > 1 else "s"}'
            f' in none of the {n_masks} masks of {where} (masks per class: {shown}): its IoU '
            'would be NaN and silently left out of the mean (a split without foreground reads '
            'mIoU 100); add images that show it to this split, or, if it is meant to be absent, '
            f'list it in the dataset\'s allow_absent_classes={tuple(refused)!r} to have it '
            'reported instead')
    return absent
