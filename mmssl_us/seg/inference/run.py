"""Segment every input under a folder and write masks, overlays and ``summary.csv``."""
from __future__ import annotations

import os.path as osp
import sys
from typing import Iterable, List, Optional, Sequence, Tuple

import cv2
import numpy as np

from ...data.media import iter_video_frames
from ...fileio import atomic_write
from ...validate import check_float, check_int

from .head import head_row, pixel_sizes
from .media import MediaItem, list_inputs
from .overlay import draw_head, overlay_mask
from .summary import write_summary

__all__ = ['run_inference']

#: inputs per forward pass when the inferencer does not say
DEFAULT_BATCH_SIZE = 8


def _png(path: str, img: np.ndarray) -> None:
    ok, buf = cv2.imencode('.png', img)
    if not ok:
        raise RuntimeError(f'OpenCV could not encode {path}')
    atomic_write(path, buf.tobytes())


def _files(inferencer, paths: Sequence[str]) -> List[Tuple[np.ndarray, np.ndarray]]:
    if hasattr(inferencer, 'predict_files'):
        return inferencer.predict_files(paths)
    return [inferencer.predict_file(p) for p in paths]


def _arrays(inferencer, frames: Sequence[np.ndarray], names: Sequence[str]):
    if hasattr(inferencer, 'predict_arrays'):
        return inferencer.predict_arrays(frames, names)
    return [inferencer.predict_array(f, n) for f, n in zip(frames, names)]


def _chunks(items: Iterable, size: int):
    chunk = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def run_inference(inferencer, src: str, out_dir: str, opacity: float = 0.5,
                  head_label: Optional[int] = None, pixel_size: Optional[float] = None,
                  pixel_size_csv: Optional[str] = None, frame_step: int = 1,
                  skip_bad: bool = False, progress: bool = True) -> List[dict]:
    """Segment every image and video frame under ``src``; write masks, overlays, summary.csv.

    Images and frames go to the model ``inferencer.batch_size`` at a time (8 when it has no
    such attribute); a batch holding a file the loading transform cannot read is redone one
    file at a time, so the bad file is named (or, with ``skip_bad``, left out) and the others
    are segmented.

    Args:
        inferencer (SegInferencer): The model (anything with ``predict_file``,
            ``predict_array``, ``classes`` and ``palette``; ``predict_files`` and
            ``predict_arrays`` are used when it has them).
        src (str): A folder, an image or a video.
        out_dir (str): Output folder (see :mod:`mmssl_us.seg.inference` for its layout).
        opacity (float): Class colour weight of the overlays, in (0, 1]. Defaults to 0.5.
        head_label (int, optional): Label whose fitted ellipse gives the head circumference;
            None: no ellipse. Defaults to None.
        pixel_size (float, optional): mm per pixel of every input. Defaults to None.
        pixel_size_csv (str, optional): HC18-style CSV of pixel sizes by file name.
            Defaults to None.
        frame_step (int): Segment every ``frame_step``-th video frame. Defaults to 1.
        skip_bad (bool): Leave unreadable files out (listed in the summary's ``error``
            column) instead of stopping. Defaults to False.
        progress (bool): Show mmengine's progress bar. Defaults to True.

    Returns:
        list[dict]: The rows of ``summary.csv``.
    """
    opacity = check_float('opacity', opacity, low=0, high=1, low_open=True)
    if pixel_size is not None and pixel_size_csv is not None:
        raise ValueError('give either pixel_size or pixel_size_csv, not both')
    if pixel_size is not None:
        pixel_size = check_float('pixel_size', pixel_size, low=0, low_open=True)
    if (pixel_size is not None or pixel_size_csv is not None) and head_label is None:
        raise ValueError('a pixel size is only used for the head circumference: give '
                         'head_label (--head-label) or use an HC18 config')
    classes, palette = list(inferencer.classes), inferencer.palette
    if head_label is not None:
        check_int('head_label', head_label, low=0, high=len(classes) - 1)
    batch_size = check_int('batch_size', getattr(inferencer, 'batch_size', DEFAULT_BATCH_SIZE),
                           low=1)
    sizes = pixel_sizes(pixel_size_csv) if pixel_size_csv is not None else None
    items = list_inputs(src, out_dir, frame_step, skip_bad)
    total = sum(len(i.frames) if i.is_video else 1 for i in items if i.error is None)
    bar = None
    if progress:
        from mmengine.utils import ProgressBar
        bar = ProgressBar(total, file=sys.stdout)  # the stream of now, not of import time

    rows: List[dict] = []
    missing_size: List[str] = []
    skipped = [i for i in items if i.error is not None]

    def shown_name(item: MediaItem) -> str:
        return osp.relpath(item.path, src) if osp.isdir(src) else osp.basename(item.path)

    def record(item: MediaItem, frame: Optional[int], shown: np.ndarray,
               label: np.ndarray) -> None:
        rel = item.rel_stem if frame is None else osp.join(item.rel_stem, f'{frame:05d}')
        _png(osp.join(out_dir, 'masks', rel + '.png'), label)
        overlay = overlay_mask(shown, label, palette, opacity)
        counts = np.bincount(label.ravel(), minlength=len(classes))
        row = dict(file=shown_name(item), frame='' if frame is None else frame,
                   height=label.shape[0], width=label.shape[1], error='')
        row.update({f'pixels_{name}': int(counts[i]) for i, name in enumerate(classes)})
        if head_label is not None:
            size = pixel_size
            if sizes is not None:
                size = sizes.get(osp.basename(item.path))
                if size is None:
                    missing_size.append(item.path)
            fields, fit, text = head_row(label, head_label, size)
            row.update(fields)
            if fit is not None:
                draw_head(overlay, fit, text)
        _png(osp.join(out_dir, 'overlays', rel + '.png'), overlay)
        rows.append(row)
        if bar is not None:
            bar.update()

    images = [i for i in items if i.error is None and not i.is_video]
    for chunk in _chunks(images, batch_size):
        try:
            results = _files(inferencer, [i.path for i in chunk])
        except ValueError:  # a header can be fine and the pixels cut short: find which
            results = []
            for item in chunk:
                try:
                    results.append(_files(inferencer, [item.path])[0])
                except ValueError as exc:
                    if not skip_bad:
                        raise ValueError(f'{exc} (pass --skip-bad to leave bad files '
                                         'out)') from None
                    item.error = str(exc)
                    skipped.append(item)
                    results.append(None)
        for item, result in zip(chunk, results):
            if result is not None:
                record(item, None, *result)

    for item in items:
        if item.error is not None or not item.is_video:
            continue
        done = 0
        for chunk in _chunks(iter_video_frames(item.path, item.frames), batch_size):
            names = [f'frame {index} of video {item.path}' for index, _ in chunk]
            results = _arrays(inferencer, [frame for _, frame in chunk], names)
            for (index, _), (shown, label) in zip(chunk, results):
                record(item, index, shown, label)
            done += len(chunk)
        if done < len(item.frames):
            msg = (f'video {item.path}: decoded {done} of the {len(item.frames)} frames its '
                   'container announces')
            if not skip_bad:
                raise ValueError(msg + ' (pass --skip-bad to keep what was decoded)')
            skipped.append(MediaItem(item.path, item.rel_stem, True, error=msg))
    if bar is not None:
        sys.stdout.write('\n')

    for item in skipped:
        rows.append(dict(file=shown_name(item), frame='', error=item.error))
    write_summary(osp.join(out_dir, 'summary.csv'), rows, classes, head_label is not None)
    print(f'segmented {sum(1 for r in rows if not r.get("error"))} images/frames into {out_dir}')
    if skipped:
        print(f'left out {len(skipped)} bad file(s), listed in summary.csv: ' +
              '; '.join(i.error for i in skipped[:5]))
    if missing_size:
        print(f'{len(missing_size)} image(s)/frame(s) have no pixel size in {pixel_size_csv} '
              f'(e.g. {missing_size[0]}): their HC is in pixels only')
    return rows
