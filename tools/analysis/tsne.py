"""t-SNE of dense backbone features of several checkpoints, side by side.

Example::

    python tools/analysis/tsne.py configs/fcn/CONFIG.py work_dirs/densecl/iter_2000.pth \
        work_dirs/random/iter_2000.pth --labels densecl random --out tsne.png

A checkpoint is a full mmseg checkpoint, a backbone-only state_dict, or ``none`` (the weights
the config builds, seeded). The logic lives in :func:`mmssl_us.study.tsne.run_tsne`.
"""
import argparse
import sys
from typing import List, Optional


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    from mmengine.config import DictAction
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('config', help='segmentation config the model and data come from')
    p.add_argument('checkpoints', nargs='+', help="checkpoint paths, or 'none'")
    p.add_argument('--labels', nargs='+', help='one name per checkpoint (default: file names)')
    p.add_argument('--out', default='tsne.png', help='figure path')
    p.add_argument('--split', default='test', choices=['train', 'val', 'test'])
    p.add_argument('--max-images', type=int, default=50)
    p.add_argument('--color', default='class', choices=['class', 'image'])
    p.add_argument('--points-per-image', type=int, default=64)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--device', default=None, help='default: cuda when available, else cpu')
    p.add_argument('--no-balance', action='store_true',
                   help='draw cells uniformly instead of taking the classes in turn')
    p.add_argument('--allow-missing', action='store_true',
                   help='go on when a checkpoint lacks some backbone keys')
    p.add_argument('--cfg-options', nargs='+', action=DictAction,
                   help='override config entries, e.g. train_dataloader.dataset.data_root=...')
    return p.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    from mmengine.config import Config

    from mmssl_us.study.tsne import run_tsne
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    run_tsne(cfg, args.checkpoints, args.labels, args.out, args.split, args.max_images,
             args.color, args.points_per_image, args.seed, balance=not args.no_balance,
             allow_missing=args.allow_missing, device=args.device)
    return 0


if __name__ == '__main__':
    from mmssl_us.cli import run_main  # noqa: E402
    sys.exit(run_main(main))
