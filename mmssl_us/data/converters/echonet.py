"""EchoNet-Dynamic -> ED/ES frames and left-ventricle masks in the mmssl_us folder layout.

Input (the public release)::

    <src>/Videos/<FileName>.avi
    <src>/FileList.csv          FileName, ..., Split (TRAIN / VAL / TEST)
    <src>/VolumeTracings.csv    FileName, X1, Y1, X2, Y2, Frame

For each traced frame, the first row of ``VolumeTracings.csv`` is the long axis of the left
ventricle and the following rows are chords across it, from (X1, Y1) on one wall to (X2, Y2) on
the other. As in the EchoNet-Dynamic code, the ventricle is the polygon through the X1/Y1 points
followed by the X2/Y2 points in reverse order (long axis excluded), filled at the video's
resolution. Every video has two traced frames; the one with the larger ventricle is written as
end-diastole (``_ED``), the other as end-systole (``_ES``), whatever their order in the file.
"""
import csv
import os
import os.path as osp
from collections import OrderedDict, defaultdict
from typing import Dict, List, Tuple

import cv2
import numpy as np

from .common import claim_output, record_output, write_pair

__all__ = ['read_file_list', 'read_tracings', 'trace_to_mask', 'read_frames',
           'convert_echonet', 'write_between_frames']

_SPLIT = {'TRAIN': 'train', 'VAL': 'val', 'TEST': 'test'}


def _video_name(name: str) -> str:
    name = name.strip()
    return name[:-4] if name.lower().endswith('.avi') else name


def read_file_list(path: str) -> Dict[str, str]:
    """``FileName -> split`` from ``FileList.csv`` (splits mapped to train/val/test)."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'EchoNet FileList not found: {path}')
    out: Dict[str, str] = {}
    with open(path, newline='', encoding='utf-8') as f:
        reader = csv.DictReader(f)
        if not reader.fieldnames or not {'FileName', 'Split'} <= set(reader.fieldnames):
            raise ValueError(f'{path} needs the columns FileName and Split, found '
                             f'{reader.fieldnames}')
        for row in reader:
            split = row['Split'].strip().upper()
            if split not in _SPLIT:
                raise ValueError(f'{path}: unknown Split {row["Split"]!r} for {row["FileName"]}'
                                 f' (expected one of {sorted(_SPLIT)})')
            out[_video_name(row['FileName'])] = _SPLIT[split]
    return out


def read_tracings(path: str) -> Dict[str, 'OrderedDict[int, np.ndarray]']:
    """``FileName -> {frame: rows}`` from ``VolumeTracings.csv``; rows are Nx4 X1,Y1,X2,Y2."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'EchoNet VolumeTracings not found: {path}')
    rows: Dict[str, Dict[int, List[List[float]]]] = defaultdict(lambda: defaultdict(list))
    with open(path, newline='', encoding='utf-8') as f:
        reader = csv.DictReader(f)
        need = {'FileName', 'X1', 'Y1', 'X2', 'Y2', 'Frame'}
        if not reader.fieldnames or not need <= set(reader.fieldnames):
            raise ValueError(f'{path} needs the columns {sorted(need)}, found '
                             f'{reader.fieldnames}')
        for lineno, row in enumerate(reader, 2):
            try:
                coords = [float(row[k]) for k in ('X1', 'Y1', 'X2', 'Y2')]
                frame = int(float(row['Frame']))
            except ValueError:
                raise ValueError(f'{path}:{lineno}: bad number in {row}') from None
            rows[_video_name(row['FileName'])][frame].append(coords)
    return {video: OrderedDict((fr, np.asarray(r, np.float64)) for fr, r in sorted(frames.items()))
            for video, frames in rows.items()}


def trace_to_mask(rows: np.ndarray, height: int, width: int) -> np.ndarray:
    """Fill the ventricle polygon of one traced frame.

    Args:
        rows (np.ndarray): Nx4 X1, Y1, X2, Y2 rows; row 0 is the long axis (not used).
        height (int): Frame height.
        width (int): Frame width.

    Returns:
        np.ndarray: HxW uint8 mask, 1 inside the ventricle.
    """
    if rows.ndim != 2 or rows.shape[1] != 4 or rows.shape[0] < 3:
        raise ValueError(f'a tracing needs the long axis and at least 2 chords, got rows of '
                         f'shape {rows.shape}')
    chords = rows[1:]
    polygon = np.concatenate([chords[:, 0:2], chords[::-1, 2:4]], axis=0)
    shift = 4  # sub-pixel vertices: coordinates in 1/16 pixel
    pts = np.round(polygon * (1 << shift)).astype(np.int32).reshape(-1, 1, 2)
    mask = np.zeros((height, width), np.uint8)
    cv2.fillPoly(mask, [pts], 1, lineType=cv2.LINE_8, shift=shift)
    return mask


def read_frames(video_path: str, indices: List[int]) -> Dict[int, np.ndarray]:
    """Read the given frames of a video as grey images (decoding sequentially).

    Args:
        video_path (str): The AVI file.
        indices (list[int]): 0-based frame numbers.

    Returns:
        dict[int, np.ndarray]: Frame number to HxW uint8 image.
    """
    if not osp.isfile(video_path):
        raise FileNotFoundError(f'EchoNet video not found: {video_path}')
    cap = cv2.VideoCapture(video_path)
    if not cap.isOpened():
        raise ValueError(f'unreadable video {video_path}')
    wanted, out, index = set(indices), {}, 0
    try:
        while len(out) < len(wanted):
            ok, frame = cap.read()
            if not ok:
                break
            if index in wanted:
                out[index] = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY) if frame.ndim == 3 \
                    else frame
            index += 1
    finally:
        cap.release()
    missing = sorted(wanted - set(out))
    if missing:
        raise ValueError(f'{video_path} has {index} frames; traced frame(s) {missing} are '
                         'beyond its end')
    return out


def convert_echonet(src: str, out: str) -> Dict[str, object]:
    """Convert EchoNet-Dynamic to ``<out>/{images,masks}/{train,val,test}/<FileName>_{ED,ES}``.

    Args:
        src (str): EchoNet-Dynamic folder (with Videos/, FileList.csv, VolumeTracings.csv).
        out (str): Output dataset root.

    Returns:
        dict: Counts: ``written`` per split, ``skipped`` (reason -> video names).
    """
    settings = dict(converter='echonet', src=osp.abspath(src))
    if claim_output(out, settings):  # never on top of another conversion
        return dict(written='reused (converted before with these settings)', skipped={})
    splits = read_file_list(osp.join(src, 'FileList.csv'))
    tracings = read_tracings(osp.join(src, 'VolumeTracings.csv'))
    written = {'train': 0, 'val': 0, 'test': 0}
    skipped: Dict[str, List[str]] = defaultdict(list)
    for video in sorted(tracings.keys() - splits.keys()):
        skipped['traced but not in FileList.csv'].append(video)
    for video, split in sorted(splits.items()):
        frames = tracings.get(video)
        if frames is None:
            skipped['no tracings'].append(video)
            continue
        if len(frames) != 2:
            skipped[f'{len(frames)} traced frames instead of 2'].append(video)
            continue
        images = read_frames(osp.join(src, 'Videos', video + '.avi'), list(frames))
        masks: List[Tuple[int, np.ndarray]] = []
        for frame, rows in frames.items():
            h, w = images[frame].shape
            masks.append((frame, trace_to_mask(rows, h, w)))
        # end-diastole: the larger ventricle; end-systole: the smaller one
        masks.sort(key=lambda fm: int(fm[1].sum()), reverse=True)
        for phase, (frame, mask) in zip(('ED', 'ES'), masks):
            write_pair(out, split, f'{video}_{phase}', images[frame], mask)
            written[split] += 1
    record_output(out, settings)
    return dict(written=written, skipped=dict(skipped))


def write_between_frames(src: str, out_dir: str, splits: Tuple[str, ...] = ('train', )) -> int:
    """The unlabelled pretraining clips of EchoNet-Dynamic: for each video of ``splits``
    (never val or test), the frames from its first to its last traced frame (end-diastole to
    end-systole, or the reverse), as the contrastive-echo work pretrained on, written to
    ``<out_dir>/<FileName>.avi`` (MJPG, grey as BGR). An existing clip of the right length is
    kept, so a second call writes nothing.

    Returns:
        int: Frames in the written and kept clips.
    """
    bad = [s for s in splits if s not in ('train', )]
    if bad:
        raise ValueError(f'the pretraining pool never takes evaluation splits, got {bad}')
    from ..media import count_video_frames
    video_splits = read_file_list(osp.join(src, 'FileList.csv'))
    tracings = read_tracings(osp.join(src, 'VolumeTracings.csv'))
    total = 0
    os.makedirs(out_dir, exist_ok=True)
    for video, split in sorted(video_splits.items()):
        frames = tracings.get(video)
        if split not in splits or not frames:
            continue
        first, last = min(frames), max(frames)
        dst = osp.join(out_dir, video + '.avi')
        n = last - first + 1
        if osp.isfile(dst) and count_video_frames(dst) == n:
            total += n
            continue
        images = read_frames(osp.join(src, 'Videos', video + '.avi'), list(range(first, last + 1)))
        h, w = images[first].shape
        tmp = dst + '.tmp.avi'
        writer = cv2.VideoWriter(tmp, cv2.VideoWriter_fourcc(*'MJPG'), 50, (w, h))
        if not writer.isOpened():
            raise RuntimeError(f'OpenCV cannot write an MJPG AVI to {tmp}')
        for i in range(first, last + 1):
            writer.write(cv2.cvtColor(images[i], cv2.COLOR_GRAY2BGR))
        writer.release()
        os.replace(tmp, dst)
        total += n
    return total
