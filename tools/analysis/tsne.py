"""t-SNE of dense backbone features of several checkpoints, side by side.

Example::

    python tools/analysis/tsne.py configs/fcn/CONFIG.py work_dirs/densecl/iter_2000.pth \
        work_dirs/random/iter_2000.pth --labels densecl random --out tsne.png

A checkpoint is a full mmseg checkpoint, a backbone-only state_dict, or ``none`` (the weights
the config builds, seeded). The logic lives in :mod:`mmssl_us.study.tsne`.
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
    import torch
    from mmengine.config import Config

    from mmssl_us.study.tsne import embed_checkpoints, load_samples, save_figure
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    labels = args.labels or [c.rsplit('/', 1)[-1] for c in args.checkpoints]
    samples, classes = load_samples(cfg, args.split, args.max_images)
    embeddings = embed_checkpoints(cfg, args.checkpoints, labels, samples,
                                   args.points_per_image, args.seed,
                                   balance=not args.no_balance, allow_missing=args.allow_missing,
                                   device=args.device or ('cuda' if torch.cuda.is_available()
                                                          else 'cpu'))
    save_figure(embeddings, args.out, args.color, classes)
    print(f'{len(samples)} {args.split} images, {len(embeddings[0].classes)} points each panel')
    for emb in embeddings:
        r = emb.load
        print(f'{emb.label}: {r.kind} checkpoint {r.path}: {r.loaded} backbone tensors loaded, '
              f'{len(r.missing)} missing {r.missing[:5]}, {len(r.unexpected)} unexpected '
              f'{r.unexpected[:5]}, {r.ignored} non-backbone keys ignored')
        acc = 'n/a (one class)' if emb.knn_accuracy is None else f'{emb.knn_accuracy:.3f}'
        print(f'{emb.label}: {emb.k}-NN leave-one-out balanced class accuracy {acc}')
    print(f'figure: {args.out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
