"""Cost of a DenseCL R50 training step with our ultrasound pipeline vs mmpretrain's stock one.

Prints measured figures only. Target: our pipeline adds <= 10 % to the stock step time
(loading + augmentation + model step, one process, CPU).

Both pipelines run on the same files in the same process, alternating, and feed the same
model (``configs/densecl/r50_knee.py``: UltrasoundDenseCL, ResNetV1c-50, 224 px, our
SplitBatchNorm2d), so the difference is the data side:

* ours: ``train_pipeline`` of ``configs/densecl/r50_knee.py`` (LoadUltrasoundFrame, two views of
  SectorRandomResizedCrop + ultrasound transforms on one grey plane, repeated to 3 channels);
* stock: ``train_pipeline`` of mmpretrain's ``imagenet_bs32_mocov2.py`` (what its DenseCL config
  uses: LoadImageFromFile, RandomResizedCrop, ColorJitter, RandomGrayscale, GaussianBlur, flip),
  read from the installed mmpretrain, with ``hue=0``: mmcv 2.1's hue jitter overflows np.uint8
  under numpy 2 (docs/ENVIRONMENT.md trap 7), so the stock hue step cannot run here.

Figures: augmentation pipeline samples/s (two views each) in this one process with OpenCV
threading off, as in a dataloader worker; model step time; loading + step together with
``num_workers=0``; peak memory (tracemalloc peak of the pipeline, ru_maxrss of the process,
``torch.cuda.max_memory_allocated`` on GPU). Frames: ``--data`` (a folder of images), else
HC18 (``/work/shared/data/hc18/training_set/*_HC.png``, 800x540) when present, else synthetic
knee frames written to a temporary folder.

Example (a couple of minutes on 2 CPU cores):
    python benchmarks/bench_pretrain.py --batch 4 --steps 3
"""
import argparse
import glob
import os.path as osp
import platform
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc

import cv2
import torch
from mmengine.config import Config
from mmengine.dataset import Compose, default_collate
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)
HC18 = '/work/shared/data/hc18/training_set'
OURS = osp.join(ROOT, 'configs', 'densecl', 'r50_knee.py')


def stock_pipeline() -> list:
    """mmpretrain's DenseCL / MoCo v2 train pipeline from the installed package, hue=0."""
    import mmpretrain
    path = osp.join(osp.dirname(mmpretrain.__file__), '.mim', 'configs', '_base_', 'datasets',
                    'imagenet_bs32_mocov2.py')
    pipeline = Config.fromfile(path).train_pipeline
    for view in pipeline[1]['transforms'][0]:
        if view['type'] == 'RandomApply':
            for t in view['transforms']:
                if t['type'] == 'ColorJitter':
                    t['hue'] = 0.0  # trap 7
    return pipeline


def frames(args) -> tuple:
    if args.data:
        files = sorted(f for f in glob.glob(osp.join(args.data, '**', '*'), recursive=True)
                       if f.lower().endswith(('.png', '.jpg', '.bmp', '.tif')))
        source = args.data
    elif osp.isdir(HC18):
        files, source = sorted(glob.glob(osp.join(HC18, '*_HC.png'))), 'HC18 800x540'
    else:
        from mmssl_us.synthetic.generator import generate_image
        folder = tempfile.mkdtemp(prefix='bench_pretrain_')
        files = []
        for i in range(args.samples):
            files.append(osp.join(folder, f'k{i}_0.png'))
            cv2.imwrite(files[-1], generate_image(i, size=(256, 256))[0])
        source = 'synthetic knee 256x256'
    if not files:
        raise SystemExit(f'no images found under {args.data}')
    return (files * (args.samples // len(files) + 1))[:args.samples], source


def time_pipeline(pipeline, files) -> tuple:
    """Samples/s (wall and CPU) and tracemalloc peak (MiB) of a pipeline over the files."""
    tracemalloc.start()
    wall, cpu = time.perf_counter(), time.process_time()
    for f in files:
        pipeline(dict(img_path=f, sample_idx=0))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return len(files) / wall, len(files) / cpu, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--batch', type=int, default=4)
    parser.add_argument('--steps', type=int, default=3, help='timed steps per pipeline')
    parser.add_argument('--samples', type=int, default=32, help='samples per pipeline timing')
    parser.add_argument('--data', help='folder of images (default: HC18 or synthetic)')
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--threads', type=int, default=0, help='torch threads (0: default)')
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    init_default_scope('mmpretrain')
    cfg = Config.fromfile(OURS)  # custom_imports is applied: registers mmssl_us.pretrain
    import mmssl_us.pretrain  # noqa: F401
    from mmpretrain.registry import MODELS
    files, source = frames(args)
    pipes = dict(ours=Compose(cfg.train_pipeline), stock=Compose(stock_pipeline()))
    print(f'# bench_pretrain | {platform.processor() or platform.machine()} | torch '
          f'{torch.__version__} threads {torch.get_num_threads()} | device {args.device}')
    print(f'# frames: {source}; batch {args.batch}; {args.steps} timed steps per pipeline')

    cv2.setNumThreads(0)  # as mmengine sets in dataloader workers
    print('\n## augmentation pipeline (load + 2 views + pack), one process = one worker')
    rate = {}
    for name, pipe in pipes.items():
        time_pipeline(pipe, files[:2])  # warm-up
        wall, cpu, peak = time_pipeline(pipe, files)
        rate[name] = wall
        print(f'{name:6s} {wall:7.1f} samples/s wall  {cpu:7.1f} samples/s CPU  '
              f'tracemalloc peak {peak:6.1f} MiB')

    model_cfg = cfg.model.copy()
    model_cfg.setdefault('data_preprocessor', cfg.data_preprocessor)
    model_cfg.queue_len = 64 * args.batch  # any multiple of the batch: not timed
    model = MODELS.build(model_cfg).to(args.device)
    model.train()
    optim = build_optim_wrapper(model, cfg.optim_wrapper)

    def load_batch(name, start):
        items = [pipes[name](dict(img_path=files[(start + i) % len(files)], sample_idx=i))
                 for i in range(args.batch)]
        return default_collate(items)

    def step(batch):
        t, c = time.perf_counter(), time.process_time()
        model.train_step(batch, optim)
        if args.device.startswith('cuda'):
            torch.cuda.synchronize()
        return time.perf_counter() - t, time.process_time() - c

    step(load_batch('stock', 0))  # warm-up (allocations, first EMA copy)
    times = {n: dict(load=[], step=[], load_cpu=[], step_cpu=[]) for n in pipes}
    for s in range(args.steps):  # alternate the pipelines so load drift hits both alike
        for name in pipes:
            t, c = time.perf_counter(), time.process_time()
            batch = load_batch(name, s * args.batch)
            times[name]['load'].append(time.perf_counter() - t)
            times[name]['load_cpu'].append(time.process_time() - c)
            wall, cpu = step(batch)
            times[name]['step'].append(wall)
            times[name]['step_cpu'].append(cpu)
    print(f'\n## DenseCL R50 training step, batch {args.batch}, 224 px '
          '(median over steps; loading with num_workers=0)')
    total = {}
    for name, t in times.items():
        load, stp = statistics.median(t['load']), statistics.median(t['step'])
        total[name] = statistics.median(a + b for a, b in zip(t['load'], t['step']))
        print(f'{name:6s} load {load:7.3f} s  step {stp:7.3f} s  load+step {total[name]:7.3f} s'
              f'  ({args.batch / total[name]:5.2f} images/s)')
    direct = (total['ours'] - total['stock']) / total['stock'] * 100
    # Same model, same input shape: the step costs the same for both pipelines, and on a shared
    # machine its noise swamps the data side; the pooled step median isolates the data side.
    step_s = statistics.median(times['ours']['step'] + times['stock']['step'])
    loads = {n: statistics.median(t['load']) for n, t in times.items()}
    pooled = (loads['ours'] - loads['stock']) / (loads['stock'] + step_s) * 100
    cpu = {n: statistics.median(a + b for a, b in zip(t['load_cpu'], t['step_cpu']))
           for n, t in times.items()}
    print(f'ours vs stock (target <= +10 %): {direct:+.1f} % load+step wall time as measured; '
          f'{(cpu["ours"] - cpu["stock"]) / cpu["stock"] * 100:+.1f} % in process CPU time '
          f'({cpu["ours"]:.2f} vs {cpu["stock"]:.2f} s); {pooled:+.2f} % with the pooled step '
          f'median {step_s:.3f} s; pipeline {rate["ours"] / rate["stock"]:.2f}x the stock '
          'samples/s')
    print('\n## memory')
    print(f'process ru_maxrss {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10:.0f} '
          'MiB')
    if args.device.startswith('cuda'):
        print(f'torch.cuda.max_memory_allocated {torch.cuda.max_memory_allocated() / 2**20:.0f} '
              'MiB')


if __name__ == '__main__':
    main()
