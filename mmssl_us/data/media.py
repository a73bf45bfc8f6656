"""Finding, hashing and reading ultrasound images and video frames (numpy / OpenCV only).

Used by the pretraining pool (``mmssl_us.pretrain.datasets``) and the leakage guard
(:mod:`mmssl_us.data.exclusion`); no host library is needed. :func:`to_grey_uint8` is the one
rule for reading pixels to 8-bit grey (bit depth from the file, :func:`bits_of`).
"""
import hashlib
import os
import os.path as osp
from typing import Iterator, List, Optional, Sequence, Tuple

import cv2
import numpy as np

IMAGE_SUFFIXES = ('.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff')
VIDEO_SUFFIXES = ('.avi', '.mp4')


def norm_suffixes(suffixes: Sequence[str], name: str) -> Tuple[str, ...]:
    """Lower-case suffixes with a leading dot; ``ValueError`` naming a malformed one.

    Args:
        suffixes (Sequence[str]): Suffixes such as ``'.PNG'`` or ``'png'``.
        name (str): Argument name for the error message.
    """
    out = []
    for s in suffixes:
        if not isinstance(s, str) or not s.strip('.'):
            raise ValueError(f'{name}: bad file suffix {s!r}')
        out.append('.' + s.lower().lstrip('.'))
    return tuple(out)


def media_stem(path: str) -> str:
    """File name without its suffix, case-folded: the key that exclusion by stem matches.

    Args:
        path (str): A file path.
    """
    return osp.splitext(osp.basename(path))[0].casefold()


def scan_media(folder: str, image_suffixes: Sequence[str] = IMAGE_SUFFIXES,
               video_suffixes: Sequence[str] = VIDEO_SUFFIXES) -> Tuple[List[str], List[str]]:
    """Images and videos under ``folder`` at any depth, each list sorted; hidden names skipped.

    Args:
        folder (str): Folder to search (symbolic links are followed).
        image_suffixes (Sequence[str]): Lower-case image suffixes; matched case-insensitively
            (``.PNG`` is an image). Defaults to IMAGE_SUFFIXES.
        video_suffixes (Sequence[str]): Lower-case video suffixes. Defaults to VIDEO_SUFFIXES.

    Returns:
        tuple[list[str], list[str]]: Image paths and video paths.
    """
    images, videos = [], []
    for root, dirs, files in os.walk(folder, followlinks=True):
        dirs[:] = sorted(d for d in dirs if not d.startswith('.'))
        for name in sorted(files):
            if name.startswith('.'):
                continue
            suffix = osp.splitext(name)[1].lower()
            if suffix in image_suffixes:
                images.append(osp.join(root, name))
            elif suffix in video_suffixes:
                videos.append(osp.join(root, name))
    return images, videos


#: medical formats that :mod:`mmssl_us.data.converters.medical_io` can read (convert first)
CONVERTIBLE_SUFFIXES = ('.nii.gz', '.nii', '.mhd')
#: medical formats no tool here reads
DICOM_SUFFIXES = ('.dcm', '.dicom')
#: the command that turns the convertible ones into PNGs
CONVERT_COMMAND = 'python -m mmssl_us.data.converters.medical_io SRC OUT (add --labels for masks)'


def file_kind(name: str) -> str:
    """Lower-case suffix of a file name, ``.nii.gz`` kept whole; ``'(none)'`` without one."""
    lower = name.lower()
    if lower.endswith('.nii.gz'):
        return '.nii.gz'
    return osp.splitext(lower)[1] or '(none)'


def unread_files(folder: str, read_suffixes: Sequence[str],
                 exclude: Optional[str] = None) -> dict:
    """The files under ``folder`` (any depth, hidden names skipped as :func:`scan_media` does;
    the folder ``exclude`` left out) whose kind is not in ``read_suffixes``: kind -> paths."""
    out: dict = {}
    if not osp.isdir(folder):
        return out
    exclude = osp.abspath(exclude) if exclude else None
    for root, dirs, files in os.walk(folder, followlinks=True):
        dirs[:] = sorted(d for d in dirs if not d.startswith('.')
                         and osp.abspath(osp.join(root, d)) != exclude)
        for name in sorted(files):
            if name.startswith('.'):
                continue
            kind = file_kind(name)
            if kind not in read_suffixes:
                out.setdefault(kind, []).append(osp.join(root, name))
    return out


def check_unread_files(folder: str, read_suffixes: Sequence[str],
                       exclude: Optional[str] = None) -> Optional[str]:
    """Refuse medical images in a folder of images; describe the other files left out.

    Args:
        folder (str): An image folder (any depth).
        read_suffixes (Sequence[str]): The kinds the tool reads.
        exclude (str, optional): A folder under ``folder`` to leave out (an output folder).

    Returns:
        str | None: ``'skipped N file(s) the tools do not read: 2 .txt, 1 .csv (e.g. PATH)'``,
        or None when every file is read.

    Raises:
        ValueError: ``.nii``/``.nii.gz``/``.mhd`` (with the conversion command) or DICOM files,
            naming how many and one of them.
    """
    unread = unread_files(folder, read_suffixes, exclude)
    medical = {k: v for k, v in unread.items() if k in CONVERTIBLE_SUFFIXES + DICOM_SUFFIXES}
    if medical:
        kinds = ', '.join(f'{len(v)} {k}' for k, v in sorted(medical.items()))
        example = next(iter(sorted(medical.items())))[1][0]
        if any(k in CONVERTIBLE_SUFFIXES for k in medical):
            how = f'convert them to 8-bit PNG first: {CONVERT_COMMAND}'
        else:
            how = 'export them as 8-bit PNG first (no tool here reads DICOM)'
        raise ValueError(f'{folder} holds medical images that the tools do not read ({kinds}, '
                         f'e.g. {example}): {how}')
    if not unread:
        return None
    n = sum(len(v) for v in unread.values())
    kinds = ', '.join(f'{len(v)} {k}' for k, v in sorted(unread.items()))
    example = next(iter(sorted(unread.items())))[1][0]
    return f'skipped {n} file(s) in {folder} that the tools do not read: {kinds} (e.g. {example})'


def file_md5(path: str, chunk: int = 1 << 20) -> str:
    """Hex md5 of a file's bytes.

    Args:
        path (str): The file.
        chunk (int): Bytes read at a time. Defaults to 1 MiB.
    """
    digest = hashlib.md5()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(chunk), b''):
            digest.update(block)
    return digest.hexdigest()


def count_video_frames(path: str) -> int:
    """Number of frames of a video: the container's count, or decoded frames when it has none.

    Args:
        path (str): The video file.

    Raises:
        ValueError: OpenCV cannot open the file, or it has no frame.
    """
    cap = cv2.VideoCapture(path)
    try:
        if not cap.isOpened():
            raise ValueError(f'cannot open video {path} with OpenCV')
        count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
        if count <= 0:  # some containers carry no count: decode through
            count = 0
            while cap.grab():
                count += 1
    finally:
        cap.release()
    if count <= 0:
        raise ValueError(f'video {path} has no frames')
    return count


def sample_frame_indices(num_frames: int, frame_step: Optional[int] = None,
                         frames_per_video: Optional[int] = None) -> List[int]:
    """Frame indices taken from a video of ``num_frames`` frames.

    Args:
        num_frames (int): Frames in the video.
        frame_step (int, optional): Take frames 0, k, 2k, ... Defaults to None.
        frames_per_video (int, optional): Take this many frames spread evenly from the first
            to the last (all frames when the video is shorter). Defaults to None.

    Exactly one of ``frame_step`` and ``frames_per_video`` must be given.
    """
    if (frame_step is None) == (frames_per_video is None):
        raise ValueError('give exactly one of frame_step and frames_per_video, got '
                         f'frame_step={frame_step!r}, frames_per_video={frames_per_video!r}')
    for name, value in (('frame_step', frame_step), ('frames_per_video', frames_per_video)):
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)
                                  or value < 1):
            raise ValueError(f'{name} must be a positive int, got {value!r}')
    if frame_step is not None:
        return list(range(0, num_frames, frame_step))
    if frames_per_video >= num_frames:
        return list(range(num_frames))
    if frames_per_video == 1:
        return [0]
    return sorted({int(round(i)) for i in np.linspace(0, num_frames - 1, frames_per_video)})


def read_image(path: str) -> np.ndarray:
    """Decode an image file as stored (grey, colour, 8 or 16 bit); errors name the file.

    Args:
        path (str): The image file.

    Returns:
        np.ndarray: HxW or HxWxC array, uint8 or uint16 as stored.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'image not found: {path}')
    data = np.fromfile(path, dtype=np.uint8)
    if data.size == 0:
        raise ValueError(f'empty image file (0 bytes): {path}; remove it or export it again')
    try:
        img = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
    except cv2.error as exc:  # OpenCV asserts on some malformed buffers
        raise ValueError(f'cannot decode image {path} (corrupt or unsupported format)') from None
    if img is None:
        raise ValueError(f'cannot decode image {path} (corrupt or unsupported format)')
    return img


def bits_of(img: np.ndarray, source: str, bit_depth: Optional[int] = None) -> int:
    """The bit depth ``img``'s values are read at: the file's, never the image's maximum.

    Without ``bit_depth`` it is the container's, the decoded dtype: 8 for uint8, 16 for uint16.
    A PNG's (and a TIFF's) bit depth is exactly that dtype, so a 16-bit PNG that holds 12-bit
    scanner data (0-4095) is read as 16-bit, and comes out dim (0-16), unless the user declares
    the depth (``bit_depth=12``). The PNG ``sBIT`` chunk is not read. A dim frame therefore stays
    dim: deriving the depth from each image's maximum, as mmssl_us did before, stretched a dim
    12-bit frame (maximum below 1024) as if it were 10-bit, so frames of one scanner came out at
    different gains.

    Args:
        img (np.ndarray): The decoded image, uint8 or uint16.
        source (str): The file (and frame) it came from, for error messages.
        bit_depth (int, optional): The declared depth, 1 to the container's bits.

    Raises:
        ValueError: an unsupported dtype, a declared depth outside 1..container bits, or a value
            above ``2 ** bit_depth - 1`` (the declaration is wrong for this file).
    """
    containers = {np.dtype(np.uint8): 8, np.dtype(np.uint16): 16}
    container = containers.get(img.dtype)
    if container is None:
        raise ValueError(f'{source}: unsupported pixel type {img.dtype} (8- or 16-bit integer '
                         'images only)')
    if bit_depth is None:
        return container
    if isinstance(bit_depth, bool) or not isinstance(bit_depth, (int, np.integer)) or \
            not 1 <= bit_depth <= container:
        raise ValueError(f'{source}: bit_depth must be an integer from 1 to {container} for a '
                         f'{img.dtype} image, got {bit_depth!r}')
    peak = int(img.max()) if img.size else 0
    if peak > 2 ** int(bit_depth) - 1:
        raise ValueError(f'{source}: a value {peak} exceeds the declared bit_depth={bit_depth} '
                         f'(at most {2 ** int(bit_depth) - 1}); declare the depth the file holds')
    return int(bit_depth)


def to_grey_uint8(img: np.ndarray, source: str, bit_depth: Optional[int] = None) -> np.ndarray:
    """HxW uint8 grey image from a decoded grey / grey+alpha / BGR / BGRA, 8- or 16-bit image.

    The one image-reading rule of pretraining and fine-tuning (``LoadUltrasoundFrame``, the
    dense probe, the fine-tuning check's advice). Values are mapped to 8 bits by
    ``round(v * 255 / (2**bits - 1))`` with ``bits`` from :func:`bits_of`: the container's
    depth (the file's dtype) unless ``bit_depth`` declares another, e.g. ``bit_depth=12`` for a
    12-bit export in a 16-bit PNG, which then spans 0-255. Colour is converted with OpenCV's
    ITU-R BT.601 luma weights; alpha is ignored.

    Args:
        img (np.ndarray): The decoded image.
        source (str): The file (and frame) it came from, for error messages.
        bit_depth (int, optional): The declared bit depth (see :func:`bits_of`).
    """
    bits = bits_of(img, source, bit_depth)
    if img.dtype != np.uint8 or bits != 8:
        img = np.round(img.astype(np.float32) * (255.0 / (2 ** bits - 1))).astype(np.uint8)
    if img.ndim == 2:
        return img
    if img.ndim != 3 or img.shape[2] not in (1, 2, 3, 4):
        raise ValueError(f'{source}: unsupported image shape {img.shape}')
    channels = img.shape[2]
    if channels in (1, 2):  # grey, grey + alpha
        return np.ascontiguousarray(img[:, :, 0])
    code = cv2.COLOR_BGR2GRAY if channels == 3 else cv2.COLOR_BGRA2GRAY
    return cv2.cvtColor(img, code)


def read_video_frame(path: str, index: int) -> np.ndarray:
    """Decode frame ``index`` (0-based) of a video as BGR; errors name the file and frame.

    Args:
        path (str): The video file.
        index (int): Frame index, seeked with ``CAP_PROP_POS_FRAMES``.

    Returns:
        np.ndarray: HxWx3 uint8 BGR frame.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'video not found: {path}')
    cap = cv2.VideoCapture(path)
    try:
        if not cap.isOpened():
            raise ValueError(f'cannot open video {path} with OpenCV')
        if index > 0 and not cap.set(cv2.CAP_PROP_POS_FRAMES, index):
            raise ValueError(f'cannot seek to frame {index} of video {path}')
        ok, frame = cap.read()
    finally:
        cap.release()
    if not ok or frame is None:
        raise ValueError(f'cannot decode frame {index} of video {path}')
    return frame


def check_video_decodes(path: str) -> int:
    """Decode the first, middle and last frame of a video (a header may promise frames that
    do not decode); return its frame count. Errors name the file and the frame.

    Args:
        path (str): The video file.
    """
    count = count_video_frames(path)
    for index in sorted({0, count // 2, count - 1}):
        try:
            read_video_frame(path, index)
        except ValueError as exc:
            raise ValueError(f'{exc}: the video says it has {count} frames but frame {index} '
                             'does not decode (truncated or corrupt); remove it or export it '
                             'again') from None
    return count


def iter_video_frames(path: str, indices: Sequence[int]) -> Iterator[Tuple[int, np.ndarray]]:
    """Decode the given frames of a video in one sequential pass (no seeking; use
    :func:`read_video_frame` for one frame). Stops early, silently, where the video ends.

    Args:
        path (str): The video file.
        indices (Sequence[int]): Frame indices (0-based) to yield.

    Yields:
        tuple[int, np.ndarray]: The index and the HxWx3 uint8 BGR frame.
    """
    wanted = set(indices)
    last = max(indices) if indices else -1
    cap = cv2.VideoCapture(path)
    try:
        if not cap.isOpened():
            raise ValueError(f'cannot open video {path} with OpenCV')
        for index in range(last + 1):
            if index not in wanted:
                if not cap.grab():
                    break
                continue
            ok, frame = cap.read()
            if not ok or frame is None:
                break
            yield index, frame
    finally:
        cap.release()


def dhash(image: np.ndarray, size: int = 16) -> np.ndarray:
    """Difference hash of a grey image: ``size * size`` booleans, "is the next pixel brighter"
    on a ``(size + 1) x size`` area-downscaled copy.

    Resizing and re-encoding change few of the bits (<= 8 of 256 for 10 HC18 test frames saved
    again as half-size JPEG at quality 70), while different frames differ in many (>= 68 of 256
    between every HC18 train and test frame; 74-116 between two frames of one subject, 10
    subjects checked): a near-duplicate test.

    Args:
        image (np.ndarray): HxW (or HxWxC, converted to grey) image, 8 or 16 bit.
        size (int): Hash side. Defaults to 16.

    Returns:
        np.ndarray: Flat bool array of ``size * size`` bits.
    """
    if image.ndim == 3:
        image = cv2.cvtColor(image[..., :3], cv2.COLOR_BGR2GRAY)
    small = cv2.resize(image.astype(np.float32), (size + 1, size), interpolation=cv2.INTER_AREA)
    return (small[:, 1:] > small[:, :-1]).ravel()
