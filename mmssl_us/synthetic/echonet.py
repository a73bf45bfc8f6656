"""Write synthetic echocardiography clips in EchoNet-Dynamic's own layout.

    <out>/Videos/<FileName>.avi      grey clips (MJPG), 112x112 by default, 50 fps
    <out>/FileList.csv               FileName, EF, ESV, EDV, FrameHeight, FrameWidth, FPS,
                                     NumberOfFrames, Split (TRAIN / VAL / TEST, by patient)
    <out>/VolumeTracings.csv         FileName (with .avi), X1, Y1, X2, Y2, Frame: at end-diastole
                                     and end-systole, the long axis then 20 chords
    <out>/synthetic_echonet.json     the arguments and the generator version

so that ``mmssl_us.data.converters.convert_echonet`` (and anything written for the public
release) reads it unchanged. One video is one patient (as in EchoNet-Dynamic); its end-diastole
is the least contracted frame of the clip's first cycle, its end-systole the most contracted
frame within one cycle after it (the traced pair of EchoNet-Dynamic is one beat, too). Volumes and EF
come from the traces by the method of disks (the chords as disk diameters), as EchoNet's are
computed from its tracings. Frames come from :mod:`.heart`.
"""
import csv
import io
import json
import os
import os.path as osp
from typing import Dict, Sequence, Tuple, Union

import cv2
import numpy as np

from ..data.splits import patient_splits
from ..fileio import atomic_write
from ..validate import check_int
from .generator import derive_seed
from .heart import HEART_VERSION, cardiac_phase, lv_tracing, render_frame, sample_heart

__all__ = ['write_echonet_dataset', 'disk_volume']

_SPLIT_NAMES = dict(train='TRAIN', val='VAL', test='TEST')
_MANIFEST = 'synthetic_echonet.json'
FPS = 50


def disk_volume(tracing: np.ndarray) -> float:
    """Volume (pixels^3) of a traced ventricle by the method of disks: each chord is the
    diameter of a disk as thick as the long axis divided by the number of chords."""
    axis = np.hypot(tracing[0, 2] - tracing[0, 0], tracing[0, 3] - tracing[0, 1])
    chords = np.hypot(tracing[1:, 2] - tracing[1:, 0], tracing[1:, 3] - tracing[1:, 1])
    return float(np.sum(np.pi * (chords / 2)**2) * axis / len(chords))


def _write_avi(path: str, frames: Sequence[np.ndarray]) -> None:
    h, w = frames[0].shape
    tmp = path + '.tmp.avi'
    writer = cv2.VideoWriter(tmp, cv2.VideoWriter_fourcc(*'MJPG'), FPS, (w, h))
    if not writer.isOpened():
        raise RuntimeError(f'OpenCV cannot write an MJPG AVI to {tmp}')
    for f in frames:
        writer.write(cv2.cvtColor(f, cv2.COLOR_GRAY2BGR))
    writer.release()
    os.replace(tmp, path)


def write_echonet_dataset(out: str, n_videos: int = 40, frames: int = 32,
                          split: Sequence[float] = (0.7, 0.15, 0.15), seed: int = 0,
                          size: Union[int, Tuple[int, int]] = 112,
                          overwrite: bool = False) -> Dict:
    """Write ``n_videos`` synthetic apical four-chamber clips in EchoNet-Dynamic's layout.

    Args:
        out (str): Output folder.
        n_videos (int): Videos (= patients). Defaults to 40.
        frames (int): Frames per video (>= 2; a cycle is 16-24 frames). Defaults to 32.
        split (Sequence[float]): Train, val, test fractions of the patients.
            Defaults to (0.7, 0.15, 0.15).
        seed (int): Dataset seed. Defaults to 0.
        size (int | tuple[int, int]): Frame height and width. Defaults to 112 (EchoNet's).
        overwrite (bool): Replace a dataset written with other arguments. Defaults to False.

    Returns:
        dict: The manifest (arguments, counts per split, ``written``: videos written now).
    """
    check_int('n_videos', n_videos, low=1)
    check_int('frames', frames, low=2)
    check_int('seed', seed, low=0)
    size = (size, size) if isinstance(size, int) else tuple(int(s) for s in size)
    if len(size) != 2 or min(size) < 32:
        raise ValueError(f'size must be (height, width) of at least 32, got {size!r}')
    args = dict(n_videos=n_videos, frames=frames, split=[float(s) for s in split], seed=seed,
                size=list(size), version=HEART_VERSION)
    record = osp.join(out, _MANIFEST)
    if osp.isfile(record):
        with open(record, encoding='utf-8') as f:
            old = json.load(f)
        if old.get('args') == args:
            return dict(old, written=0)
        if not overwrite:
            raise FileExistsError(f'{out} holds a synthetic EchoNet dataset written with '
                                  f'{old.get("args")}, not {args}: choose another folder or '
                                  'pass overwrite')
    names = [f'0XSYN{seed:03d}{k:05d}' for k in range(n_videos)]
    splits = patient_splits(names, split, seed)
    split_of = {n: _SPLIT_NAMES[s] for s, ids in splits.items() for n in ids}
    os.makedirs(osp.join(out, 'Videos'), exist_ok=True)
    files = io.StringIO()
    traces = io.StringIO()
    fl = csv.writer(files, lineterminator='\n')
    vt = csv.writer(traces, lineterminator='\n')
    fl.writerow(['FileName', 'EF', 'ESV', 'EDV', 'FrameHeight', 'FrameWidth', 'FPS',
                 'NumberOfFrames', 'Split'])
    vt.writerow(['FileName', 'X1', 'Y1', 'X2', 'Y2', 'Frame'])
    for k, name in enumerate(names):
        pseed = derive_seed(seed, k)
        heart = sample_heart(pseed, size, 0.0)
        contraction = [cardiac_phase(heart, f) for f in range(frames)]
        # end-diastole in the first cycle, end-systole the next most contracted frame after it
        cycle = int(np.ceil(heart.period))
        ed = int(np.argmin(contraction[:cycle]))
        es = ed + int(np.argmax(contraction[ed:ed + cycle]))
        if es == ed:  # a clip shorter than its cycle: its least and most contracted frames
            ed, es = int(np.argmin(contraction)), int(np.argmax(contraction))
        clip = [render_frame(pseed, f, size)[0] for f in range(frames)]
        _write_avi(osp.join(out, 'Videos', name + '.avi'), clip)
        volumes = {}
        for frame in sorted((ed, es)):
            tracing = lv_tracing(heart, contraction[frame])
            volumes[frame] = disk_volume(tracing)
            for row in tracing:
                vt.writerow([name + '.avi'] + [f'{v:.4f}' for v in row] + [frame])
        edv, esv = volumes[ed], volumes[es]
        fl.writerow([name, f'{100 * (edv - esv) / edv:.2f}', f'{esv:.1f}', f'{edv:.1f}',
                     size[0], size[1], FPS, frames, split_of[name]])
    atomic_write(osp.join(out, 'FileList.csv'), files.getvalue())
    atomic_write(osp.join(out, 'VolumeTracings.csv'), traces.getvalue())
    counts = {s: len(ids) for s, ids in splits.items()}
    manifest = dict(args=args, counts=counts)
    atomic_write(record, json.dumps(manifest, indent=1))
    return dict(manifest, written=n_videos)
