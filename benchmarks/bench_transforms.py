"""Throughput of the ultrasound transforms and of whole augmentation views, per core.

Prints measured figures only (target: >= 200 images/s per core for the view at 224 px).
Everything runs in this one process with OpenCV's threading off (``cv2.setNumThreads(0)``,
what mmengine sets in dataloader workers), so images/s is per core. Each line gives the
wall-clock rate and the rate from this process's CPU time; on a shared machine the second
is the steadier measure of the work per image.

* ``transform``: each photometric transform with ``prob=1`` on 224x224 inputs cut from the
  frames, and the crops on the full frames;
* ``view``: one augmented view from a full frame, for the ultrasound view of the DenseCL
  config (read from ``configs/_base_/pretrain/knee_unlabelled.py`` when present, else the
  copy below) and for mmpretrain's stock DenseCL view (``hue=0``: docs/ENVIRONMENT.md trap 7),
  built through the mmpretrain registry in the mmpretrain scope.

Frames: ``/work/shared/data/hc18/training_set/*_HC.png`` (800x540) when present, else
synthetic convex-probe frames of that size.

Example:
    python benchmarks/bench_transforms.py --n 300
"""
import argparse
import glob
import os.path as osp
import platform
import time

import cv2
import numpy as np
from mmengine.config import Config
from mmengine.registry import init_default_scope

from mmssl_us.transforms import (AcousticShadow, AnisotropicPSFBlur, DepthAttenuation,
                                 GainChange, LogCompression, SectorRandomResizedCrop,
                                 SpeckleNoise, TGCCurve, draw_footprint)
from mmssl_us.transforms.footprint import largest_square

HC18 = '/work/shared/data/hc18/training_set'
CONFIG = osp.join(osp.dirname(__file__), '..', 'configs', '_base_', 'pretrain',
                  'knee_unlabelled.py')
# Copy of the view in CONFIG at the time of writing (without its final RepeatGreyChannels).
US_VIEW = [
    dict(type='SectorRandomResizedCrop', scale=224, crop_ratio_range=(0.2, 1.0)),
    dict(type='RandomApply', prob=0.8, transforms=[
        dict(type='GainChange', gain_db=(-6.0, 6.0), prob=1.0),
        dict(type='LogCompression', dr_db=(40.0, 80.0), prob=1.0),
        dict(type='TGCCurve', num_points=5, gain_db=(-6.0, 6.0), prob=1.0)]),
    dict(type='DepthAttenuation', alpha=(0.0, 6.0), prob=0.5),
    dict(type='AcousticShadow', reflector='random', prob=0.2),
    dict(type='SpeckleNoise', sigma=(0.05, 0.3), distribution='rayleigh', prob=0.5),
    dict(type='AnisotropicPSFBlur', axial_sigma=(0.3, 1.0), lateral_sigma=(0.5, 2.0), prob=0.5),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
]
STOCK_VIEW = [  # mmpretrain configs/_base_/datasets/imagenet_bs32_mocov2.py, hue=0
    dict(type='RandomResizedCrop', scale=224, crop_ratio_range=(0.2, 1.), backend='pillow'),
    dict(type='RandomApply', prob=0.8, transforms=[
        dict(type='ColorJitter', brightness=0.4, contrast=0.4, saturation=0.4, hue=0.)]),
    dict(type='RandomGrayscale', prob=0.2, keep_channels=True,
         channel_weights=(0.114, 0.587, 0.2989)),
    dict(type='GaussianBlur', magnitude_range=(0.1, 2.0), magnitude_std='inf', prob=0.5),
    dict(type='RandomFlip', prob=0.5),
]


def load_frames(count: int) -> tuple:
    files = sorted(glob.glob(osp.join(HC18, '*_HC.png')))[:count]
    if files:
        return [cv2.imread(f, cv2.IMREAD_COLOR) for f in files], f'{len(files)} HC18 frames'
    frames = []
    for seed in range(count):
        rng = np.random.default_rng(seed)
        truth = draw_footprint('convex', (540, 800))
        grey = np.where(truth, np.clip(rng.rayleigh(50, truth.shape), 1, 255), 0)
        frames.append(np.dstack([grey.astype(np.uint8)] * 3))
    return frames, f'{count} synthetic convex frames (HC18 absent)'


def timed(fn, inputs: list, n: int) -> tuple:
    """Wall-clock and CPU seconds per call (CPU time is less disturbed by other processes)."""
    for i in range(10):  # warm-up: caches, lazy imports
        fn(inputs[i % len(inputs)])
    wall, cpu = np.empty(n), np.empty(n)
    for k in range(n):
        w, c = time.perf_counter(), time.process_time()
        fn(inputs[k % len(inputs)])
        wall[k], cpu[k] = time.perf_counter() - w, time.process_time() - c
    return wall, cpu


def report(label: str, times: tuple) -> None:
    wall, cpu = times
    print(f'{label:<46} {len(wall) / wall.sum():7.1f} images/s wall ({1e3 * wall.mean():6.3f} ms,'
          f' p50 {1e3 * np.median(wall):6.3f})  {len(cpu) / cpu.sum():7.1f} images/s CPU '
          f'({1e3 * cpu.mean():6.3f} ms)')


def apply(t):
    return lambda img: t(dict(img=img.copy()))


def view_pipeline(cfg_views: list):
    from mmcv.transforms import Compose
    from mmpretrain.registry import TRANSFORMS
    init_default_scope('mmpretrain')
    return Compose([TRANSFORMS.build(c) for c in cfg_views])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--n', type=int, default=300, help='timed images per line')
    parser.add_argument('--frames', type=int, default=20, help='frames to cycle through')
    args = parser.parse_args()
    cv2.setNumThreads(0)
    np.random.seed(0)
    frames, source = load_frames(args.frames)
    grey = [f[..., 0].copy() for f in frames]
    print(f'{platform.processor() or platform.machine()}, python {platform.python_version()},'
          f' cv2 {cv2.__version__}, numpy {np.__version__}; {source}, '
          f'{frames[0].shape[1]}x{frames[0].shape[0]}; one process, cv2 threads off')
    small = [cv2.resize(f[60:480, 100:700], (224, 224), interpolation=cv2.INTER_AREA)
             for f in frames]
    small_grey = [s[..., 0].copy() for s in small]
    print('-- each transform, applied (prob=1), 224x224 grey | 224x224x3')
    for t in (SpeckleNoise(prob=1.0), SpeckleNoise(distribution='gamma', prob=1.0),
              DepthAttenuation(prob=1.0), TGCCurve(prob=1.0), AcousticShadow(prob=1.0),
              AcousticShadow(apex=(0.5, -0.5), prob=1.0),
              AcousticShadow(reflector='detect', threshold=180, prob=1.0),
              LogCompression(prob=1.0), GainChange(prob=1.0), AnisotropicPSFBlur(prob=1.0)):
        name = type(t).__name__
        if isinstance(t, (SpeckleNoise, AcousticShadow)):
            name += f' {t.distribution}' if isinstance(t, SpeckleNoise) else \
                f' {t.reflector}{" apex" if t.apex else ""}'
        report(f'{name} grey', timed(apply(t), small_grey, args.n))
        report(f'{name} 3ch', timed(apply(t), small, args.n))
    print('-- crops of full frames to 224x224')
    for footprint in ('auto', 'convex'):
        t = SectorRandomResizedCrop(224, crop_ratio_range=(0.2, 1.0), footprint=footprint)
        report(f'SectorRandomResizedCrop {footprint} grey', timed(apply(t), grey, args.n))
        report(f'SectorRandomResizedCrop {footprint} 3ch', timed(apply(t), frames, args.n))
        fallbacks = 0
        for k in range(200):
            mask = t.footprint_mask(grey[k % len(grey)])
            fallbacks += t.rand_crop_params(mask) == largest_square(mask)
        print(f'    fallback to the largest square: {fallbacks} of 200 crops')
    stock_crop = view_pipeline(STOCK_VIEW[:1])
    report('mmpretrain RandomResizedCrop (pillow) 3ch', timed(apply(stock_crop), frames, args.n))
    print('-- one augmented view from a full frame (the DenseCL view)')
    us_view = US_VIEW
    if osp.exists(CONFIG):
        us_view = [c for c in Config.fromfile(CONFIG).view_pipeline
                   if c['type'] != 'RepeatGreyChannels']
        print(f'    ultrasound view read from {osp.normpath(CONFIG)}')
    us = view_pipeline(us_view)
    report('ultrasound view, grey frames (as configured)', timed(apply(us), grey, args.n))
    report('ultrasound view, 3ch frames', timed(apply(us), frames, args.n))
    stock = view_pipeline(STOCK_VIEW)
    report('mmpretrain DenseCL view (hue=0), 3ch frames', timed(apply(stock), frames, args.n))


if __name__ == '__main__':
    main()
