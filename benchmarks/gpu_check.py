"""One GPU check: what a paper-scale run costs on this machine, in one table.

    python benchmarks/gpu_check.py               # on a GPU: a few minutes (budget 8)
    python benchmarks/gpu_check.py --dry-run     # the same code on CPU, tiny sizes, seconds

Measures, in one process and one run:

* DenseCL R50 training steps at batch 32 with 224 px views, images/s, for our config
  (``configs/densecl/r50_knee.py``: ResNetV1c, SplitBatchNorm2d, ``queue_len='auto'`` sized for
  3,750 images) and mmpretrain's stock ``densecl_resnet50_8xb32-coslr-200e_in1k.py`` (ResNet,
  BN, queue 65536, read from the installed package's ``.mim/configs``), each in fp32 and AMP
  (bf16 where the GPU supports it, else fp16) with channels_last off and on; the peak GPU
  memory of each. The models are fed the same random uint8 views (the model step only).
* The data loader: images/s (two views each) of our ultrasound pipeline and of the stock
  MoCo v2 / DenseCL pipeline (hue 0, docs/ENVIRONMENT.md trap 7) through a torch DataLoader with
  as many workers as this machine has cores, batch 32: whether the loader can feed the GPU.
* FCN R50-D8 training iterations/s at 256 px crops and batch 16, our knee config vs mmseg's stock
  ``fcn_r50-d8_4xb2-40k_cityscapes-512x1024.py`` model, fp32 and AMP (code of
  ``bench_finetune.py``).
* The estimates a user plans with, from the measured rates: hours for 200 DenseCL epochs over
  3,750 images (batch 32, ``drop_last``) at the slower of the step and the loader, minutes for
  40k FCN iterations.

``--dry-run`` runs every part on the CPU with tiny sizes (ResNet-18, 64 px views, batch 4, a
handful of samples; AMP as bf16 autocast on the CPU); its figures mean nothing, it only proves the
script runs (tests/benchmarks/test_gpu_check.py).
"""
import argparse
import contextlib
import os
import os.path as osp
import statistics
import sys
import time
import warnings
from typing import Dict, List, Optional

import torch

HERE = osp.dirname(osp.abspath(__file__))
ROOT = osp.dirname(HERE)
for path in (ROOT, HERE):
    if path not in sys.path:
        sys.path.insert(0, path)

from bench_finetune import OURS as FCN_OURS  # noqa: E402
from bench_finetune import batch as seg_batch  # noqa: E402
from bench_finetune import build as build_seg  # noqa: E402
from bench_finetune import stock_config as fcn_stock_config  # noqa: E402
from bench_finetune import train_iter_seconds  # noqa: E402
from bench_pretrain import OURS as DENSECL_OURS  # noqa: E402
from bench_pretrain import stock_pipeline  # noqa: E402

#: the planning figures of the README: the knee pool and the published schedules
POOL_IMAGES, EPOCHS, FCN_ITERS = 3750, 200, 40000

SIZES = dict(
    full=dict(depth=50, batch=32, view=224, queue_stock=65536, warmup=3, steps=10,
              crop=256, seg_batch=16, seg_depth=None, seg_warmup=3, seg_iters=10,
              loader_batches=20, frames=256),
    dry=dict(depth=18, batch=4, view=64, queue_stock=64, warmup=1, steps=1, crop=64,
             seg_batch=2, seg_depth=18, seg_warmup=0, seg_iters=1, loader_batches=2,
             frames=8),
)


def stock_densecl_path() -> str:
    import mmpretrain
    return osp.join(osp.dirname(mmpretrain.__file__), '.mim', 'configs', 'densecl',
                    'densecl_resnet50_8xb32-coslr-200e_in1k.py')


def sync(device: str) -> None:
    if device.startswith('cuda'):
        torch.cuda.synchronize()


def amp_dtype(device: str) -> torch.dtype:
    if device.startswith('cuda'):
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.bfloat16


def optim_wrapper(model, device: str, amp: bool, lr: float):
    """SGD as our configs use it; AMP as ``tools/train.py --amp`` builds it (mmengine's
    AmpOptimWrapper) but in bf16 where supported. On the CPU (dry run) AmpOptimWrapper cannot
    be built: bf16 autocast around the same step stands in."""
    from mmengine.optim import OptimWrapper, build_optim_wrapper
    optimizer = dict(type='SGD', lr=lr, momentum=0.9, weight_decay=1e-4)
    if not amp:
        return build_optim_wrapper(model, dict(type='OptimWrapper', optimizer=optimizer))
    if device.startswith('cuda'):
        dtype = 'bfloat16' if amp_dtype(device) == torch.bfloat16 else 'float16'
        return build_optim_wrapper(model, dict(type='AmpOptimWrapper', dtype=dtype,
                                               loss_scale='dynamic', optimizer=optimizer))

    class CPUAutocast(OptimWrapper):

        @contextlib.contextmanager
        def optim_context(self, module):
            with super().optim_context(module), torch.autocast('cpu', dtype=torch.bfloat16):
                yield

    return CPUAutocast(optimizer=torch.optim.SGD(model.parameters(), **{
        k: v for k, v in optimizer.items() if k != 'type'}))


def set_channels_last(model) -> None:
    """Weights and every backbone input in channels_last memory format."""
    model.to(memory_format=torch.channels_last)

    def to_cl(_module, args):
        return tuple(a.contiguous(memory_format=torch.channels_last)
                     if torch.is_tensor(a) and a.dim() == 4 else a for a in args)

    for module in model.modules():
        if 'ResNet' in type(module).__name__:
            module.register_forward_pre_hook(to_cl)


def _peak(device: str) -> Optional[float]:
    return torch.cuda.max_memory_allocated() / 2**20 if device.startswith('cuda') else None


def _reset_peak(device: str) -> None:
    if device.startswith('cuda'):
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()


# --- DenseCL ---------------------------------------------------------------------------------
def densecl_models(size: dict):
    """(name, config, queue length) of our DenseCL config and mmpretrain's."""
    from mmengine.config import Config

    from mmssl_us.pretrain.config_utils import pretrain_cfg_options
    from mmssl_us.pretrain.models.queue import resolve_queue_len
    out = []
    for name, path in (('ours r50_knee', DENSECL_OURS),
                       ('mmpretrain densecl_8xb32 (model)', stock_densecl_path())):
        cfg = Config.fromfile(path)
        if size['depth'] != 50:
            cfg.merge_from_dict(pretrain_cfg_options(cfg, depth=size['depth']))
        if cfg.model.queue_len == 'auto':  # what NegativeQueueHook sets for the knee pool
            queue = resolve_queue_len(POOL_IMAGES, size['batch'], max_len=size['queue_stock'])
        else:
            queue = min(int(cfg.model.queue_len), size['queue_stock'])
        out.append((name, cfg, queue))
    return out


def build_densecl(cfg, queue: int, device: str):
    from mmengine.registry import DefaultScope
    from mmpretrain.registry import MODELS

    import mmssl_us.pretrain  # noqa: F401
    model_cfg = cfg.model.copy()
    model_cfg.setdefault('data_preprocessor', cfg.data_preprocessor)
    auto = model_cfg.queue_len == 'auto'
    if not auto:
        model_cfg.queue_len = queue
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        model = MODELS.build(model_cfg)
    if auto:
        model.resize_queues(queue)
    return model.to(device).train()


def densecl_batch(n: int, view: int, seed: int = 0) -> dict:
    from mmpretrain.structures import DataSample
    g = torch.Generator().manual_seed(seed)
    views = [torch.randint(0, 256, (n, 3, view, view), generator=g, dtype=torch.uint8)
             for _ in range(2)]
    return dict(inputs=views, data_samples=[DataSample() for _ in range(n)])


def densecl_rows(size: dict, device: str, deadline: float) -> List[dict]:
    rows = []
    for name, cfg, queue in densecl_models(size):
        for amp in (False, True):
            for channels_last in (False, True):
                row = dict(part='DenseCL step', config=name, precision=_precision(amp, device),
                           channels_last=channels_last, unit='images/s',
                           note=f'batch {size["batch"]}, {size["view"]} px, queue {queue}')
                rows.append(row)
                if time.time() > deadline:
                    row['note'] += '; skipped: over the time budget'
                    continue
                _reset_peak(device)
                model = build_densecl(cfg, queue, device)
                if channels_last:
                    set_channels_last(model)
                wrapper = optim_wrapper(model, device, amp, lr=0.03 * size['batch'] / 256)
                data = densecl_batch(size['batch'], size['view'])
                times = []
                for i in range(size['warmup'] + size['steps']):
                    sync(device)
                    start = time.perf_counter()
                    model.train_step(data, wrapper)
                    sync(device)
                    if i >= size['warmup']:
                        times.append(time.perf_counter() - start)
                row['rate'] = size['batch'] / statistics.median(times)
                row['peak_mib'] = _peak(device)
                del model, wrapper
    return rows


def _precision(amp: bool, device: str) -> str:
    if not amp:
        return 'fp32'
    return 'AMP ' + {torch.bfloat16: 'bf16', torch.float16: 'fp16'}[amp_dtype(device)] + \
        ('' if device.startswith('cuda') else ' (CPU autocast)')


# --- data loader -----------------------------------------------------------------------------
class _Pipeline(torch.utils.data.Dataset):
    """The files through a pipeline, as a dataset's ``__getitem__`` does."""

    def __init__(self, files, pipeline):
        from mmengine.dataset import Compose
        self.files, self.pipeline = files, Compose(pipeline)

    def __len__(self):
        return len(self.files)

    def __getitem__(self, i):
        return self.pipeline(dict(img_path=self.files[i], sample_idx=i))


def _worker_init(_):
    import cv2
    cv2.setNumThreads(0)  # as mmengine sets in its dataloader workers (mp_cfg)


def frame_files(n: int, data: Optional[str]) -> tuple:
    """Frames for the loader: bench_pretrain's choice (``--data``, HC18, else synthetic)."""
    from bench_pretrain import frames
    return frames(argparse.Namespace(data=data, samples=n))


def loader_rows(size: dict, workers: int, data: Optional[str], deadline: float) -> List[dict]:
    from mmengine.config import Config
    from mmengine.dataset import default_collate
    from mmengine.registry import init_default_scope

    import mmssl_us.pretrain  # noqa: F401
    init_default_scope('mmpretrain')
    files, source = frame_files(size['frames'], data)
    n_images = size['batch'] * size['loader_batches']
    files = (files * (n_images // len(files) + 1))[:n_images]
    ours = Config.fromfile(DENSECL_OURS)
    if size['view'] != 224:
        from mmssl_us.pretrain.config_utils import pretrain_cfg_options
        ours.merge_from_dict(pretrain_cfg_options(ours, view_size=size['view']))
    stock = stock_pipeline()
    if size['view'] != 224:
        for view in stock[1]['transforms'][0]:
            if 'RandomResizedCrop' in view['type']:
                view['scale'] = size['view']
    rows = []
    for name, pipeline in (('ours (ultrasound augmentations)',
                            ours.train_dataloader.dataset.pipeline),
                           ('mmpretrain MoCo v2 / DenseCL pipeline (hue 0)', stock)):
        row = dict(part='data loader', config=name, precision='-', channels_last=None,
                   unit='images/s', note=f'{workers} workers, batch {size["batch"]}, {source}')
        rows.append(row)
        if time.time() > deadline:
            row['note'] += '; skipped: over the time budget'
            continue
        loader = torch.utils.data.DataLoader(
            _Pipeline(files, pipeline), batch_size=size['batch'], num_workers=workers,
            collate_fn=default_collate, worker_init_fn=_worker_init if workers else None,
            drop_last=True)
        it = iter(loader)
        next(it)  # workers started, first batch (not timed)
        start, count = time.perf_counter(), 0
        for batch in it:
            count += len(batch['data_samples'])
        seconds = time.perf_counter() - start
        row['rate'] = count / seconds if count else None
    return rows


# --- FCN -------------------------------------------------------------------------------------
def fcn_rows(size: dict, device: str, deadline: float) -> List[dict]:
    from mmengine.config import Config
    from mmengine.logging import MMLogger

    from mmssl_us.seg.config_utils import seg_cfg_options
    MMLogger.get_instance('gpu_check', log_level='WARNING')
    crop = (size['crop'], size['crop'])
    rows = []
    for name, cfg in (('ours ' + osp.basename(FCN_OURS)[:-3], Config.fromfile(FCN_OURS)),
                      ('mmseg fcn_r50-d8_4xb2-40k_cityscapes (model)', fcn_stock_config())):
        if size['seg_depth']:
            cfg.merge_from_dict(seg_cfg_options(cfg, depth=size['seg_depth'], head_channels=8))
        for amp in (False, True):
            row = dict(part='FCN R50-D8 step', config=name, precision=_precision(amp, device),
                       channels_last=False, unit='iters/s',
                       note=f'batch {size["seg_batch"]}, {crop[0]} px crops, '
                       f'{cfg.model.decode_head.num_classes} classes')
            rows.append(row)
            if time.time() > deadline:
                row['note'] += '; skipped: over the time budget'
                continue
            _reset_peak(device)
            model = build_seg(cfg, crop, device)
            wrapper = optim_wrapper(model, device, amp, lr=0.01)
            data = seg_batch(size['seg_batch'], crop, cfg.model.decode_head.num_classes, seed=0)
            times = [train_iter_seconds(model, wrapper, data, device)
                     for _ in range(size['seg_warmup'] + size['seg_iters'])]
            row['rate'] = 1.0 / statistics.median(times[size['seg_warmup']:])
            row['peak_mib'] = _peak(device)
            del model, wrapper
    return rows


# --- estimates and the table -----------------------------------------------------------------
def estimate_rows(rows: List[dict], batch: int) -> List[dict]:
    """Hours for 200 DenseCL epochs over 3,750 images and minutes for 40k FCN iterations,
    from the fastest measured setting of our configs (and fp32)."""
    out = []
    loader = [r['rate'] for r in rows if r['part'] == 'data loader' and
              r['config'].startswith('ours') and r.get('rate')]
    images = (POOL_IMAGES // batch) * batch * EPOCHS  # drop_last
    for precision in ('fp32', 'AMP'):
        steps = [r for r in rows if r['part'] == 'DenseCL step' and r['config'].startswith('ours')
                 and r['precision'].startswith(precision) and r.get('rate')]
        if steps:
            best = max(steps, key=lambda r: r['rate'])
            rate = min([best['rate']] + loader)
            bound = 'loader' if loader and loader[0] < best['rate'] else 'step'
            out.append(dict(part='estimate', config=f'DenseCL ours, {EPOCHS} epochs x '
                            f'{POOL_IMAGES} images', precision=best['precision'],
                            channels_last=best['channels_last'], unit='hours',
                            rate=images / rate / 3600, note=f'at {rate:.1f} images/s '
                            f'({bound}-bound), batch {batch}'))
        fcn = [r for r in rows if r['part'] == 'FCN R50-D8 step' and r['config'].startswith(
            'ours') and r['precision'].startswith(precision) and r.get('rate')]
        if fcn:
            out.append(dict(part='estimate', config=f'FCN ours, {FCN_ITERS} iterations',
                            precision=fcn[0]['precision'], channels_last=False,
                            unit='minutes', rate=FCN_ITERS / fcn[0]['rate'] / 60,
                            note=f'at {fcn[0]["rate"]:.2f} iters/s, model step only'))
    return out


def format_table(rows: List[dict]) -> str:
    lines = ['| part | config | precision | channels_last | value | unit | peak GPU MiB | '
             'note |', '|---|---|---|---|---:|---|---:|---|']
    for r in rows:
        cl = '-' if r.get('channels_last') is None else ('on' if r['channels_last'] else 'off')
        value = '-' if r.get('rate') is None else (f'{r["rate"]:.1f}' if r['rate'] >= 10
                                                   else f'{r["rate"]:.3g}')
        peak = '-' if r.get('peak_mib') is None else f'{r["peak_mib"]:.0f}'
        lines.append(f'| {r["part"]} | {r["config"]} | {r["precision"]} | {cl} | {value} | '
                     f'{r["unit"]} | {peak} | {r.get("note", "")} |')
    return '\n'.join(lines)


def device_line(device: str) -> str:
    if device.startswith('cuda'):
        props = torch.cuda.get_device_properties(torch.device(device))
        return (f'{props.name}, {props.total_memory / 2**30:.0f} GiB, CUDA {torch.version.cuda}'
                f', cuDNN {torch.backends.cudnn.version()}')
    import platform
    return f'CPU ({platform.processor() or platform.machine()}), {torch.get_num_threads()} threads'


def run(dry_run: bool = False, device: Optional[str] = None, workers: Optional[int] = None,
        budget_s: float = 420.0, data: Optional[str] = None) -> Dict:
    """Measure everything; returns dict(rows=..., table=..., header=...)."""
    if device is None:
        device = 'cpu' if dry_run or not torch.cuda.is_available() else 'cuda'
    if not dry_run and not device.startswith('cuda'):
        raise SystemExit('gpu_check measures a GPU and this machine has none '
                         f'(device={device!r}); run with --dry-run to check the script on CPU')
    size = SIZES['dry' if dry_run else 'full']
    if workers is None:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') \
            else (os.cpu_count() or 1)
        workers = min(2, cores) if dry_run else cores
    if device.startswith('cuda'):
        torch.backends.cudnn.benchmark = True
    start = time.time()
    deadline = start + budget_s
    rows = densecl_rows(size, device, deadline)
    rows += loader_rows(size, workers, data, deadline)
    rows += fcn_rows(size, device, deadline)
    rows += estimate_rows(rows, size['batch'])
    header = (f'gpu_check{" --dry-run (CPU, tiny sizes: the figures mean nothing)" if dry_run else ""}'
              f' | {time.strftime("%Y-%m-%d")} | {device_line(device)} | torch '
              f'{torch.__version__} | {time.time() - start:.0f} s')
    return dict(rows=rows, header=header, table=format_table(rows))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--dry-run', action='store_true',
                        help='CPU, tiny sizes, seconds: checks the script, measures nothing')
    parser.add_argument('--device', help='default: cuda (cpu with --dry-run)')
    parser.add_argument('--workers', type=int,
                        help='data-loader workers (default: the cores of this machine)')
    parser.add_argument('--budget-s', type=float, default=420.0,
                        help='parts not started after this many seconds are skipped '
                        '(default 420, inside the 8 minutes of a GPU loan)')
    parser.add_argument('--data', help='folder of frames for the loader (default: HC18 if '
                        'present, else synthetic knee frames)')
    args = parser.parse_args(argv)
    warnings.filterwarnings('ignore', category=UserWarning)  # mmcv / mmseg build-time notes
    if args.workers is not None and args.workers < 0:
        parser.error(f'--workers must be >= 0, got {args.workers}')
    if args.budget_s <= 0:
        parser.error(f'--budget-s must be > 0, got {args.budget_s}')
    result = run(args.dry_run, args.device, args.workers, args.budget_s, args.data)
    print(result['header'])
    print(result['table'])
    return 0


if __name__ == '__main__':
    sys.exit(main())
