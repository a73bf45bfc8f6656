"""Fine-tuning and evaluation throughput of our FCN R50-D8 config next to mmseg's own.

Builds the model of one of our segmentation configs and the model dict of mmseg's installed
``configs/fcn/fcn_r50-d8_4xb2-40k_cityscapes-512x1024.py`` (with its ImageNet download switched
off), feeds both the same random batches at our config's crop, and prints images per second for
training steps (forward, backward, SGD update through ``train_step``) and for evaluation
(``test_step``, whole-image inference). Only the models are timed, not data loading. The two
models are run in turn, iteration by iteration, so that load from other processes on a shared
machine hits both alike; the median per-iteration time is reported.

    python benchmarks/bench_finetune.py                       # CPU, batch 2, 3 timed iterations
    python benchmarks/bench_finetune.py --device cuda --batch 16 --iters 20

Keep it short on a shared CPU: each R50-D8 iteration at 256x256 takes seconds there.
"""
import argparse
import os.path as osp
import statistics
import time

import torch
from mmengine.config import Config
from mmengine.logging import MMLogger
from mmengine.model import revert_sync_batchnorm
from mmengine.optim import build_optim_wrapper
from mmengine.registry import DefaultScope
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

import mmssl_us.seg  # noqa: F401  (registers the plugin, as the configs' custom_imports do)

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
OURS = osp.join(ROOT, 'configs', 'fcn', 'fcn_r50-d8-random_1xb16-40k_knee-256x256.py')


def stock_config() -> Config:
    """mmseg's installed FCN R50-D8 Cityscapes config (from the package's .mim folder)."""
    import mmseg
    path = osp.join(osp.dirname(mmseg.__file__), '.mim', 'configs', 'fcn',
                    'fcn_r50-d8_4xb2-40k_cityscapes-512x1024.py')
    return Config.fromfile(path)


def build(cfg: Config, crop, device: str):
    model_cfg = cfg.model.copy()
    model_cfg.pretrained = None  # no ImageNet download: throughput does not depend on it
    model_cfg.data_preprocessor.size = tuple(crop)
    with DefaultScope.overwrite_default_scope('mmseg'):
        model = MODELS.build(model_cfg)
    model.init_weights()
    return revert_sync_batchnorm(model).to(device)


def batch(n: int, crop, num_classes: int, seed: int):
    g = torch.Generator().manual_seed(seed)
    h, w = crop
    inputs = [torch.randint(0, 256, (3, h, w), generator=g, dtype=torch.uint8) for _ in range(n)]
    samples = []
    for _ in range(n):
        s = SegDataSample(metainfo=dict(img_shape=(h, w), ori_shape=(h, w), pad_shape=(h, w)))
        label = torch.randint(0, num_classes, (1, h, w), generator=g)
        s.gt_sem_seg = PixelData(data=label)
        samples.append(s)
    return dict(inputs=inputs, data_samples=samples)


def sync(device: str) -> None:
    if device.startswith('cuda'):
        torch.cuda.synchronize()


def train_iter_seconds(model, wrapper, data, device: str) -> float:
    """Seconds of one training step (forward, backward, SGD update)."""
    model.train()
    sync(device)
    start = time.perf_counter()
    model.train_step(data, wrapper)
    sync(device)
    return time.perf_counter() - start


@torch.no_grad()
def eval_iter_seconds(model, data, device: str) -> float:
    """Seconds of whole-image inference on the first image of the batch."""
    model.eval()
    one = dict(inputs=data['inputs'][:1], data_samples=data['data_samples'][:1])
    sync(device)
    start = time.perf_counter()
    model.test_step(one)
    sync(device)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--config', default=OURS, help='our segmentation config')
    parser.add_argument('--batch', type=int, default=2, help='training batch size')
    parser.add_argument('--iters', type=int, default=3, help='timed iterations (train and eval)')
    parser.add_argument('--warmup', type=int, default=1, help='untimed iterations first')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--threads', type=int, default=0, help='torch threads (0: default)')
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    # a quiet 'current' logger: init_weights would otherwise log every parameter
    MMLogger.get_instance('bench_finetune', log_level='WARNING')
    ours = Config.fromfile(args.config)
    crop = tuple(ours.model.data_preprocessor.size)
    print(f'device {args.device}, torch {torch.__version__}, {torch.get_num_threads()} threads; '
          f'crop {crop[0]}x{crop[1]}, train batch {args.batch}, eval batch 1, '
          f'{args.iters} timed iterations after {args.warmup} warm-up')
    runs = []
    for name, cfg in ((osp.relpath(args.config, ROOT), ours),
                      ('mmseg fcn_r50-d8_4xb2-40k_cityscapes-512x1024 (model)', stock_config())):
        model = build(cfg, crop, args.device)
        wrapper = build_optim_wrapper(model, dict(type='OptimWrapper', optimizer=dict(
            type='SGD', lr=0.01, momentum=0.9, weight_decay=0.0005)))
        n_cls = cfg.model.decode_head.num_classes
        runs.append(dict(name=name, model=model, wrapper=wrapper, n_cls=n_cls,
                         data=batch(args.batch, crop, n_cls, seed=0), train=[], eval=[]))
    # interleave the two models, so that load from other processes hits both alike
    for it in range(args.warmup + args.iters):
        for run in runs:
            t_train = train_iter_seconds(run['model'], run['wrapper'], run['data'], args.device)
            t_eval = eval_iter_seconds(run['model'], run['data'], args.device)
            if it >= args.warmup:
                run['train'].append(t_train)
                run['eval'].append(t_eval)
    print(f'{"model":58s} {"train img/s":>12s} {"eval img/s":>11s}  (median of timed iterations)')
    for run in runs:
        train = args.batch / statistics.median(run['train'])
        evaluation = 1.0 / statistics.median(run['eval'])
        print(f'{run["name"]:58s} {train:12.3f} {evaluation:11.3f}   ({run["n_cls"]} classes; '
              f'train s/iter {", ".join(f"{t:.2f}" for t in run["train"])})')


if __name__ == '__main__':
    main()
