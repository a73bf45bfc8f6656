"""Segment a folder, an image or a video with a trained model: masks, overlays and a summary.

``python -m mmssl_us.seg.inference CONFIG CHECKPOINT INPUT OUT`` (or ``tools/infer.py``) writes::

    OUT/masks/<rel stem>.png            uint8 label values, the input image's size
    OUT/overlays/<rel stem>.png         the image with the predicted classes blended in
    OUT/masks/<video stem>/<frame:05d>.png, OUT/overlays/<video stem>/<frame:05d>.png
    OUT/summary.csv                     one row per image or frame: pixels per class and, for a
                                        head-circumference model (HC18), the fitted ellipse and
                                        the circumference in pixels and, when the pixel size is
                                        known, in mm

``<rel stem>`` is the path below the input folder without its suffix (the file stem for a single
image). Every file is written atomically (:mod:`mmssl_us.fileio`).

The model is built as mmseg's :func:`mmseg.apis.init_model` builds it, and each image goes
through the config's own test pipeline (``LoadAnnotations`` removed) and ``model.test_step``, so
our configs and mmseg's own ones behave as under ``tools/test.py``. The image the overlay shows
is the one the config's loading transform produced (for our grey ultrasound configs: the grey
image repeated into three channels). Video frames (OpenCV, BGR) enter the same pipeline with
the loading step replaced by mmseg's ``LoadImageFromNDArray``, as mmseg's ``inference_model``
does for arrays.

Refusals, each naming the file: a checkpoint that does not fit the config's model
(:func:`mmssl_us.launch.check_checkpoint_fits`, counts and first keys), one that cannot be read
(:class:`mmssl_us.checkpoint.CorruptCheckpointError`) or needs unsafe types; an image that is not
an image, or has more than 8 bits per sample (refused as training refuses it,
:func:`mmssl_us.seg.datasets.checks.image_size`); a video OpenCV cannot open. All image headers
and videos are checked before the model runs, so a bad file stops the run before any work;
``skip_bad`` (``--skip-bad``) instead leaves bad files out, lists them in ``summary.csv``
(column ``error``) and prints them at the end.

Overlays: each class whose palette colour is not black is blended into the image with
``opacity`` (``out = (1 - opacity) * image + opacity * colour`` on its pixels); black classes
(the background of our datasets) leave the image as it is. The palette is the dataset's
(``dataset_meta`` of the checkpoint, else the metainfo of the config's test dataset, else a
fixed one drawn as mmseg draws missing palettes).

Head circumference: when the config's test dataset is ``HC18Dataset`` (or ``head_label`` is
given) an ellipse is fitted to the head class of each prediction with
:func:`mmssl_us.seg.metrics.ellipse.fit_mask_ellipse` (the fit of ``HeadCircumferenceMetric``)
and drawn on the overlay. The pixel size comes from ``pixel_size`` (one value for all inputs), a
CSV of ``filename, pixel size(mm)`` (HC18's own or the converter's ``pixel_size.csv``, matched by
file name; a video's frames use the video's name), or, for an HC18 config without either, the
dataset's ``<data_root>/pixel_size.csv`` when that file exists. Without a pixel size the summary
gives the circumference in pixels and says so.
"""
from __future__ import annotations

import argparse
import copy
import csv
import io
import os
import os.path as osp
import sys
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np

from mmssl_us.data.media import (CONVERT_COMMAND, CONVERTIBLE_SUFFIXES, IMAGE_SUFFIXES,
                                 VIDEO_SUFFIXES, check_unread_files, count_video_frames, file_kind,
                                 iter_video_frames, sample_frame_indices, scan_media)
from mmssl_us.fileio import atomic_write
from mmssl_us.validate import check_choice, check_float, check_int

from .datasets.checks import image_size, stored_orientation
from .metrics.ellipse import ellipse_circumference, fit_mask_ellipse

__all__ = ['SegInferencer', 'MediaItem', 'list_inputs', 'overlay_mask', 'run_inference',
           'infer_parser', 'main', 'default_palette']

#: loading transforms whose output a video frame can stand in for
_FILE_LOADERS = ('LoadImageFromFile', 'mmcv.LoadImageFromFile', 'mmseg.LoadImageFromFile')
#: colour (BGR) of the fitted head ellipse drawn on overlays
ELLIPSE_COLOUR = (0, 255, 0)


def default_palette(num_classes: int) -> List[List[int]]:
    """The palette mmseg gives a dataset without one (``BaseSegDataset._update_palette``):
    random RGB colours drawn with numpy's global generator seeded with 42, state restored."""
    state = np.random.get_state()
    np.random.seed(42)
    palette = np.random.randint(0, 255, size=(num_classes, 3)).tolist()
    np.random.set_state(state)
    return palette


def _dataset_cfg(cfg) -> dict:
    for key in ('test_dataloader', 'val_dataloader'):
        loader = cfg.get(key) or {}
        dataset = loader.get('dataset') if hasattr(loader, 'get') else None
        if dataset:
            return dataset
    return {}


def _test_pipeline(cfg, config_name: str) -> List[dict]:
    pipeline = cfg.get('test_pipeline') or _dataset_cfg(cfg).get('pipeline')
    if not pipeline:
        raise ValueError(f'{config_name} has no test_pipeline (nor test_dataloader.dataset.'
                         'pipeline): inference needs the pipeline the model was tested with')
    pipeline = [dict(t) for t in copy.deepcopy(list(pipeline))]
    return [t for t in pipeline if not str(t.get('type', '')).endswith('LoadAnnotations')]


def _device(device: Optional[str]) -> str:
    import torch
    if device is None:
        return 'cuda' if torch.cuda.is_available() else 'cpu'
    base = device.split(':', 1)[0]
    check_choice('device', base, ['cpu', 'cuda'])
    if base == 'cuda' and not torch.cuda.is_available():
        raise ValueError(f'device {device!r}: this machine has no CUDA GPU (use --device cpu)')
    return device


class SegInferencer:
    """A segmentor from a config and checkpoint, and its test pipeline, one image at a time.

    Args:
        config (str | mmengine.Config): Config file (ours or mmseg's) or a loaded config.
        checkpoint (str): Checkpoint of that config's model.
        device (str, optional): ``'cpu'``, ``'cuda'`` or ``'cuda:N'``. Defaults to None: CUDA
            when available, else CPU.
        cfg_options (dict, optional): Dotted overrides merged into the config. Defaults to None.
        partial_load (bool): Load a checkpoint that fits the model only in part (the rest stays
            as initialised). Defaults to False: such a checkpoint is refused.

    Raises:
        FileNotFoundError: The config or checkpoint does not exist.
        ValueError: The checkpoint does not fit the model (counts and first keys named).
        mmssl_us.checkpoint.CorruptCheckpointError: The checkpoint cannot be read.
    """

    def __init__(self, config, checkpoint: str, device: Optional[str] = None,
                 cfg_options: Optional[dict] = None, partial_load: bool = False) -> None:
        from mmengine.config import Config
        from mmengine.dataset import Compose
        from mmengine.model import revert_sync_batchnorm
        from mmengine.runner import load_checkpoint
        from mmseg.apis import init_model

        from mmssl_us.checkpoint import install
        from mmssl_us.launch import check_cfg_options, check_checkpoint_fits
        install()
        name = config if isinstance(config, str) else '<config>'
        if isinstance(config, str):
            if not osp.isfile(config):
                raise FileNotFoundError(f'config file not found: {config}')
            cfg = Config.fromfile(config)
        else:
            cfg = copy.deepcopy(config)
        if cfg_options:
            check_cfg_options(cfg, cfg_options)  # a typo in a key is named, not ignored
            cfg.merge_from_dict(cfg_options)
        if not osp.isfile(checkpoint):
            raise FileNotFoundError(f'checkpoint not found: {checkpoint}')
        self.device = _device(device)
        pipeline = stored_orientation(_test_pipeline(cfg, name))  # pixels as stored
        model = init_model(cfg, checkpoint=None, device='cpu')
        model = revert_sync_batchnorm(model)  # SyncBN needs a process group; BN is the same in eval
        if not partial_load:
            check_checkpoint_fits(model, checkpoint)
        ckpt = load_checkpoint(model, checkpoint, map_location='cpu', strict=not partial_load,
                               logger='silent')
        self.model = model.to(self.device).eval()
        self.cfg = cfg
        self.checkpoint = checkpoint
        self.num_classes = int(model.decode_head.num_classes)
        self.dataset_type = str(_dataset_cfg(cfg).get('type', ''))
        meta = ckpt.get('meta', {}) if isinstance(ckpt, dict) else {}
        self.classes, self.palette = self._metainfo(cfg, meta.get('dataset_meta') or {})
        self.file_pipeline = Compose(pipeline)
        first = pipeline[0]
        self._loader_type = str(first.get('type'))
        self._grey = str(first.get('color_type', 'color')).startswith('grayscale')
        self.array_pipeline = None
        if self._loader_type in _FILE_LOADERS:
            self.array_pipeline = Compose(
                [dict(type='mmseg.LoadImageFromNDArray',
                      to_float32=bool(first.get('to_float32', False)))] + pipeline[1:])

    def _metainfo(self, cfg, ckpt_meta: dict) -> Tuple[Tuple[str, ...], List[List[int]]]:
        """Classes and RGB palette: checkpoint meta, else the config's dataset, else generic."""
        meta = dict(ckpt_meta)
        if not meta.get('classes') or not meta.get('palette'):
            dataset = _dataset_cfg(cfg)
            from_cfg = dict(dataset.get('metainfo') or {})
            if dataset.get('type'):
                from mmseg.registry import DATASETS
                cls = DATASETS.get(dataset['type'])
                if cls is not None and hasattr(cls, 'METAINFO'):
                    from_cfg = {**dict(cls.METAINFO), **from_cfg}
            for key in ('classes', 'palette'):
                if not meta.get(key) and from_cfg.get(key):
                    meta[key] = from_cfg[key]
        classes = tuple(meta.get('classes') or ())
        if len(classes) != self.num_classes:
            classes = tuple(f'class{i}' for i in range(self.num_classes))
        palette = [list(map(int, c)) for c in (meta.get('palette') or [])]
        if len(palette) < self.num_classes:
            palette += default_palette(self.num_classes)[len(palette):]
        return classes, palette[:self.num_classes]

    def _run(self, pipeline, results: dict, what: str) -> Tuple[np.ndarray, np.ndarray]:
        import torch
        loader, rest = pipeline.transforms[0], pipeline.transforms[1:]
        try:
            results = loader(results)
        except Exception as exc:  # mmcv / cv2 name neither the file nor the cause plainly
            raise ValueError(f'cannot read {what}: {type(exc).__name__}: {exc}') from None
        if results is None or results.get('img') is None:
            raise ValueError(f'cannot read {what}: the loading transform returned nothing')
        shown = np.array(results['img'], copy=True)
        for transform in rest:
            results = transform(results)
        batch = dict(inputs=[results['inputs']], data_samples=[results['data_samples']])
        with torch.no_grad():
            sample = self.model.test_step(batch)[0]
        label = sample.pred_sem_seg.data[0].cpu().numpy()
        if label.shape != shown.shape[:2]:
            raise RuntimeError(f'the prediction for {what} is {label.shape} but the image is '
                               f'{shown.shape[:2]} (HxW)')
        return _as_bgr(shown), label.astype(np.uint8)

    def predict_file(self, path: str) -> Tuple[np.ndarray, np.ndarray]:
        """Segment an image file.

        Returns:
            tuple[np.ndarray, np.ndarray]: The loaded image as HxWx3 uint8 BGR (for the
            overlay) and the HxW uint8 label map at the image's size.
        """
        return self._run(self.file_pipeline, dict(img_path=path), f'image {path}')

    def predict_array(self, frame: np.ndarray, name: str = 'frame') -> Tuple[np.ndarray,
                                                                                 np.ndarray]:
        """Segment a decoded BGR frame (a video frame); see :meth:`predict_file`."""
        if self.array_pipeline is None:
            raise ValueError(f'{name}: the config\'s test pipeline starts with '
                             f'{self._loader_type}, not LoadImageFromFile: video frames cannot '
                             'be fed to it')
        if self._grey and frame.ndim == 3:
            frame = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        return self._run(self.array_pipeline, dict(img=frame), name)


def _as_bgr(img: np.ndarray) -> np.ndarray:
    """HxWx3 uint8 for drawing: grey repeated, alpha dropped, float clipped."""
    img = np.asarray(img)
    if img.dtype != np.uint8:
        img = np.clip(np.round(img), 0, 255).astype(np.uint8)
    if img.ndim == 2 or img.shape[2] == 1:
        return cv2.cvtColor(img.reshape(img.shape[:2]), cv2.COLOR_GRAY2BGR)
    return np.ascontiguousarray(img[..., :3])


def overlay_mask(image: np.ndarray, label: np.ndarray, palette: Sequence[Sequence[int]],
                 opacity: float = 0.5) -> np.ndarray:
    """Blend each non-black palette class of ``label`` into a BGR image.

    Args:
        image (np.ndarray): HxWx3 uint8 BGR image.
        label (np.ndarray): HxW label map.
        palette (Sequence): RGB colour per class (mmseg's convention).
        opacity (float): Weight of the class colour, in (0, 1]. Defaults to 0.5.

    Returns:
        np.ndarray: HxWx3 uint8 BGR overlay; pixels of black classes (and of labels beyond the
        palette) keep the image's values.
    """
    opacity = check_float('opacity', opacity, low=0, high=1, low_open=True)
    out = image.copy()
    for index, rgb in enumerate(palette):
        if not any(rgb):
            continue
        where = label == index
        if where.any():
            colour = np.array(rgb[::-1], np.float32)
            blended = image[where].astype(np.float32) * (1 - opacity) + colour * opacity
            out[where] = np.clip(np.round(blended), 0, 255).astype(np.uint8)
    return out


@dataclass
class MediaItem:
    """One input: an image, or a video with the frame indices to segment."""
    path: str
    rel_stem: str
    is_video: bool = False
    frames: List[int] = field(default_factory=list)
    error: Optional[str] = None


def list_inputs(src: str, out_dir: Optional[str] = None, frame_step: int = 1,
                skip_bad: bool = False) -> List[MediaItem]:
    """The images and videos to segment, each checked (header, bit depth, frame count).

    Args:
        src (str): A folder (images and videos at any depth), an image or a video.
        out_dir (str, optional): The output folder; files under it are left out (a rerun with
            OUT inside INPUT does not segment its own overlays). Defaults to None.
        frame_step (int): Segment every ``frame_step``-th frame of a video. Defaults to 1.
        skip_bad (bool): Keep a bad file as an item with ``error`` set instead of raising.
            Defaults to False.

    Returns:
        list[MediaItem]: Sorted images, then videos.

    Raises:
        FileNotFoundError: ``src`` does not exist.
        ValueError: No media found, an unsupported suffix, two inputs that would write the same
            mask, or (without ``skip_bad``) a bad file, named.
    """
    frame_step = check_int('frame_step', frame_step, low=1)
    if osp.isdir(src):
        note = check_unread_files(src, IMAGE_SUFFIXES + VIDEO_SUFFIXES, exclude=out_dir)
        if note:
            print(note)
        images, videos = scan_media(src)
        if out_dir is not None:
            inside = osp.abspath(out_dir) + os.sep
            images = [p for p in images if not osp.abspath(p).startswith(inside)]
            videos = [p for p in videos if not osp.abspath(p).startswith(inside)]
        root = src
        if not images and not videos:
            raise ValueError(f'no images ({", ".join(IMAGE_SUFFIXES)}) or videos '
                             f'({", ".join(VIDEO_SUFFIXES)}) found under {src}')
    elif osp.isfile(src):
        suffix = osp.splitext(src)[1].lower()
        if suffix in IMAGE_SUFFIXES:
            images, videos = [src], []
        elif suffix in VIDEO_SUFFIXES:
            images, videos = [], [src]
        elif file_kind(src) in CONVERTIBLE_SUFFIXES:
            raise ValueError(f'{src} is a medical image that the tools do not read: convert it '
                             f'to 8-bit PNG first: {CONVERT_COMMAND}')
        else:
            raise ValueError(f'{src}: not an image ({", ".join(IMAGE_SUFFIXES)}) or a video '
                             f'({", ".join(VIDEO_SUFFIXES)})')
        root = osp.dirname(src)
    else:
        raise FileNotFoundError(f'input not found: {src}')

    items, seen = [], {}
    for path, is_video in [(p, False) for p in images] + [(p, True) for p in videos]:
        rel_stem = osp.splitext(osp.relpath(path, root))[0]
        key = (rel_stem, is_video)
        if key in seen:
            raise ValueError(f'{seen[key]} and {path} would both write masks/{rel_stem}'
                             f'{"/" if is_video else ".png"}: rename one of them')
        seen[key] = path
        item = MediaItem(path, rel_stem, is_video)
        try:
            if is_video:
                item.frames = sample_frame_indices(count_video_frames(path), frame_step)
            else:
                image_size(path)  # header only: not an image, or > 8 bits, is named here
        except ValueError as exc:
            if not skip_bad:
                raise ValueError(f'{exc} (pass --skip-bad to leave bad files out)') from None
            item.error = str(exc)
        items.append(item)
    return items


def _png(path: str, img: np.ndarray) -> None:
    ok, buf = cv2.imencode('.png', img)
    if not ok:
        raise RuntimeError(f'OpenCV could not encode {path}')
    atomic_write(path, buf.tobytes())


def _pixel_sizes(csv_path: str) -> Dict[str, float]:
    from .datasets.hc18 import read_pixel_sizes
    return read_pixel_sizes(csv_path)


def _draw_head(overlay: np.ndarray, fit, text: str) -> None:
    h, w = overlay.shape[:2]
    thick = max(1, int(round(min(h, w) / 250)))
    cv2.ellipse(overlay, fit, ELLIPSE_COLOUR, thick, cv2.LINE_8)
    scale = max(0.4, min(h, w) / 600)
    cv2.putText(overlay, text, (5, 5 + int(20 * scale)), cv2.FONT_HERSHEY_SIMPLEX, scale,
                ELLIPSE_COLOUR, thick, cv2.LINE_AA)


def run_inference(inferencer, src: str, out_dir: str, opacity: float = 0.5,
                  head_label: Optional[int] = None, pixel_size: Optional[float] = None,
                  pixel_size_csv: Optional[str] = None, frame_step: int = 1,
                  skip_bad: bool = False, progress: bool = True) -> List[dict]:
    """Segment every image and video frame under ``src``; write masks, overlays, summary.csv.

    Args:
        inferencer (SegInferencer): The model (anything with ``predict_file``,
            ``predict_array``, ``classes`` and ``palette``).
        src (str): A folder, an image or a video.
        out_dir (str): Output folder (see the module docstring for its layout).
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
    sizes = _pixel_sizes(pixel_size_csv) if pixel_size_csv is not None else None
    items = list_inputs(src, out_dir, frame_step, skip_bad)
    total = sum(len(i.frames) if i.is_video else 1 for i in items if i.error is None)
    bar = None
    if progress:
        from mmengine.utils import ProgressBar
        bar = ProgressBar(total, file=sys.stdout)  # the stream of now, not of import time

    rows: List[dict] = []
    missing_size: List[str] = []
    skipped = [i for i in items if i.error is not None]

    def record(item: MediaItem, frame: Optional[int], shown: np.ndarray,
               label: np.ndarray) -> None:
        rel = item.rel_stem if frame is None else osp.join(item.rel_stem, f'{frame:05d}')
        _png(osp.join(out_dir, 'masks', rel + '.png'), label)
        overlay = overlay_mask(shown, label, palette, opacity)
        counts = np.bincount(label.ravel(), minlength=len(classes))
        row = dict(file=osp.relpath(item.path, src) if osp.isdir(src) else osp.basename(
            item.path), frame='' if frame is None else frame, height=label.shape[0],
            width=label.shape[1], error='')
        row.update({f'pixels_{name}': int(counts[i]) for i, name in enumerate(classes)})
        if head_label is not None:
            row.update(ellipse_cx='', ellipse_cy='', ellipse_width='', ellipse_height='',
                       ellipse_angle='', hc_px='', pixel_size_mm='', hc_mm='', note='')
            size = pixel_size
            if sizes is not None:
                size = sizes.get(osp.basename(item.path))
                if size is None:
                    missing_size.append(item.path)
            fit = fit_mask_ellipse(label == head_label)
            if fit is None:
                row['note'] = 'no head ellipse (fewer than 5 contour points)'
            else:
                (cx, cy), (ew, eh), angle = fit
                hc_px = ellipse_circumference(fit)
                row.update(ellipse_cx=round(cx, 3), ellipse_cy=round(cy, 3),
                           ellipse_width=round(ew, 3), ellipse_height=round(eh, 3),
                           ellipse_angle=round(angle, 3), hc_px=round(hc_px, 3))
                if size is None:
                    row['note'] = 'pixel size unknown: HC in pixels only'
                    text = f'HC {hc_px:.1f} px'
                else:
                    hc_mm = ellipse_circumference(fit, size)
                    row.update(pixel_size_mm=size, hc_mm=round(hc_mm, 3))
                    text = f'HC {hc_mm:.1f} mm'
                _draw_head(overlay, fit, text)
            if size is not None and not row['pixel_size_mm']:
                row['pixel_size_mm'] = size
        _png(osp.join(out_dir, 'overlays', rel + '.png'), overlay)
        rows.append(row)
        if bar is not None:
            bar.update()

    for item in items:
        if item.error is not None:
            continue
        if not item.is_video:
            try:  # a header can be fine and the pixels cut short
                shown, label = inferencer.predict_file(item.path)
            except ValueError as exc:
                if not skip_bad:
                    raise ValueError(f'{exc} (pass --skip-bad to leave bad files out)') from None
                item.error = str(exc)
                skipped.append(item)
                continue
            record(item, None, shown, label)
            continue
        done = 0
        for index, frame in iter_video_frames(item.path, item.frames):
            shown, label = inferencer.predict_array(frame, f'frame {index} of video {item.path}')
            record(item, index, shown, label)
            done += 1
        if done < len(item.frames):
            msg = (f'video {item.path}: decoded {done} of the {len(item.frames)} frames its '
                   'container announces')
            if not skip_bad:
                raise ValueError(msg + ' (pass --skip-bad to keep what was decoded)')
            skipped.append(MediaItem(item.path, item.rel_stem, True, error=msg))
    if bar is not None:
        sys.stdout.write('\n')

    for item in skipped:
        rows.append(dict(file=osp.relpath(item.path, src) if osp.isdir(src) else
                         osp.basename(item.path), frame='', error=item.error))
    _write_summary(osp.join(out_dir, 'summary.csv'), rows, classes, head_label is not None)
    print(f'segmented {sum(1 for r in rows if not r.get("error"))} images/frames into {out_dir}')
    if skipped:
        print(f'left out {len(skipped)} bad file(s), listed in summary.csv: ' +
              '; '.join(i.error for i in skipped[:5]))
    if missing_size:
        print(f'{len(missing_size)} image(s)/frame(s) have no pixel size in {pixel_size_csv} '
              f'(e.g. {missing_size[0]}): their HC is in pixels only')
    return rows


def _write_summary(path: str, rows: List[dict], classes: Sequence[str], hc: bool) -> None:
    columns = ['file', 'frame', 'height', 'width'] + [f'pixels_{c}' for c in classes]
    if hc:
        columns += ['ellipse_cx', 'ellipse_cy', 'ellipse_width', 'ellipse_height',
                    'ellipse_angle', 'hc_px', 'pixel_size_mm', 'hc_mm', 'note']
    columns.append('error')
    buf = io.StringIO()
    writer = csv.DictWriter(buf, columns, restval='', lineterminator='\n')
    writer.writeheader()
    writer.writerows(rows)
    atomic_write(path, buf.getvalue())


def infer_parser() -> argparse.ArgumentParser:
    """The arguments of ``tools/infer.py`` / ``python -m mmssl_us.seg.inference``."""
    from mmengine.config import DictAction
    parser = argparse.ArgumentParser(
        description='Segment a folder (images and videos at any depth), an image or a video: '
        'writes OUT/masks (uint8 labels), OUT/overlays (palette blend) and OUT/summary.csv '
        '(pixels per class; for HC18 the fitted ellipse and head circumference)')
    parser.add_argument('config', help='segmentation config (ours or mmseg\'s)')
    parser.add_argument('checkpoint', help='checkpoint of that config\'s model')
    parser.add_argument('input', help='a folder, an image or a video (.avi/.mp4)')
    parser.add_argument('out', help='output folder')
    parser.add_argument('--device', help='cpu, cuda or cuda:N (default: cuda when available)')
    parser.add_argument('--opacity', type=float, default=0.5,
                        help='weight of the class colour in the overlays, (0, 1] (default 0.5)')
    parser.add_argument('--head-label', type=int,
                        help='label whose fitted ellipse gives the head circumference '
                        '(default: 1 for an HC18Dataset config, else none)')
    size = parser.add_mutually_exclusive_group()
    size.add_argument('--pixel-size', type=float, metavar='MM',
                      help='pixel size in mm of every input (HC in mm)')
    size.add_argument('--pixel-size-csv', metavar='CSV',
                      help='HC18-style CSV (filename, pixel size(mm)) matched by file name; '
                      'default for an HC18 config: <data_root>/pixel_size.csv when it exists')
    parser.add_argument('--frame-step', type=int, default=1,
                        help='segment every k-th video frame (default 1: all)')
    parser.add_argument('--skip-bad', action='store_true',
                        help='leave unreadable images/videos out (listed in summary.csv) '
                        'instead of stopping at the first')
    parser.add_argument('--partial-load', action='store_true',
                        help='load a checkpoint that fits the model only in part')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config entries, e.g. model.test_cfg.mode=slide')
    return parser


def _hc18_defaults(inferencer: SegInferencer, args: argparse.Namespace
                   ) -> Tuple[Optional[int], Optional[str]]:
    """Head label and pixel-size CSV for an HC18 config when the user gave neither."""
    head_label, csv_path = args.head_label, args.pixel_size_csv
    if inferencer.dataset_type != 'HC18Dataset':
        return head_label, csv_path
    if head_label is None:
        head_label = 1
    if csv_path is None and args.pixel_size is None:
        dataset = _dataset_cfg(inferencer.cfg)
        guess = dataset.get('pixel_size_file', 'pixel_size.csv')
        if dataset.get('data_root') and not osp.isabs(guess):
            guess = osp.join(dataset['data_root'], guess)
        if osp.isfile(guess):
            print(f'pixel sizes from {guess} (the config\'s HC18 dataset)')
            csv_path = guess
        else:
            print(f'no pixel size given and {guess} not found: head circumference in pixels '
                  '(use --pixel-size or --pixel-size-csv)')
    return head_label, csv_path


def main(argv: Optional[List[str]] = None) -> int:
    """Command line entry point; returns the exit status."""
    args = infer_parser().parse_args(argv)
    check_float('--opacity', args.opacity, low=0, high=1, low_open=True)
    check_int('--frame-step', args.frame_step, low=1)
    if args.pixel_size is not None:
        check_float('--pixel-size', args.pixel_size, low=0, low_open=True)
    if args.head_label is not None:
        check_int('--head-label', args.head_label, low=0)
    if not osp.exists(args.input):
        raise FileNotFoundError(f'input not found: {args.input}')
    inferencer = SegInferencer(args.config, args.checkpoint, device=args.device,
                               cfg_options=args.cfg_options, partial_load=args.partial_load)
    head_label, csv_path = _hc18_defaults(inferencer, args)
    run_inference(inferencer, args.input, args.out, opacity=args.opacity, head_label=head_label,
                  pixel_size=args.pixel_size, pixel_size_csv=csv_path,
                  frame_step=args.frame_step, skip_bad=args.skip_bad)
    return 0


if __name__ == '__main__':
    from mmssl_us.cli import run_main
    sys.exit(run_main(main))
