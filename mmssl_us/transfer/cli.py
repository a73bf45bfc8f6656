"""Command line of the transfer step (``tools/model_converters/pretrain2seg.py`` wraps it).

    python -m mmssl_us.transfer SRC [DST] [--verify] [--adapter resnet]

SRC is a checkpoint file or a work dir (its ``last_checkpoint`` is used); DST defaults to
``backbone.pth`` next to the checkpoint, e.g. ``work_dirs/r50_knee/backbone.pth``. In mmssl_us
configs load it with ``backbone=dict(..., init_cfg=dict(type='VerifiedPretrained',
checkpoint=DST))``, which fails on any missing or unexpected key; other OpenMMLab projects
(mmseg, mmdet) load it with their usual ``type='Pretrained'``. ``--verify`` builds the host's
backbone like the checkpoint (mmseg's ResNetV1c, or ResNet for a 7x7 stem), loads the weights,
and fails unless no key is missing, none is unexpected, every loaded tensor equals its source
and the pretrained and the converted network give equal outputs on a fixed input.
"""
import argparse
import os.path as osp
import sys
from typing import List, Optional

from .adapters import ADAPTERS
from .convert import convert_checkpoint, resolve_source

__all__ = ['main']


def main(argv: Optional[List[str]] = None) -> int:
    """Parse ``argv`` (default ``sys.argv[1:]``), convert, print what was done; return 0."""
    parser = argparse.ArgumentParser(
        prog='python -m mmssl_us.transfer',
        description='Turn a pretraining checkpoint (DenseCL / MoCo v2 / SimCLR / BYOL) into a '
        'backbone checkpoint for mmsegmentation / mmdetection')
    parser.add_argument('src', help='pretraining checkpoint (or its work dir)')
    parser.add_argument('dst', nargs='?', help='output (default: <checkpoint dir>/backbone.pth)')
    parser.add_argument('--verify', action='store_true',
                        help='check keys, tensors and outputs against the host backbone')
    parser.add_argument('--adapter', default='resnet', choices=sorted(ADAPTERS),
                        help='backbone family and target host (default: resnet)')
    parser.add_argument('--force', action='store_true',
                        help='replace an existing output that is not a backbone file written by '
                        'this converter (the source checkpoint is never replaced)')
    args = parser.parse_args(argv)
    src = resolve_source(args.src)
    dst = args.dst or osp.join(osp.dirname(osp.abspath(src)), 'backbone.pth')
    try:
        state_dict, meta = convert_checkpoint(src, dst, args.adapter, verify=args.verify,
                                              overwrite=args.force)
    except ValueError as exc:
        print(f'error: {exc}', file=sys.stderr)
        return 2
    depth = f', depth {meta["depth"]}' if 'depth' in meta else ''
    print(f'{src} -> {dst}: {meta["num_keys"]} backbone keys ({meta["target"]}{depth}); '
          f'dropped: {meta["dropped"] or "nothing"}')
    if args.verify:
        print('verified: ' + meta['verified'])
    return 0


if __name__ == '__main__':
    sys.exit(main())
