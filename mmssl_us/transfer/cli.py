"""Command line of the transfer step (``tools/model_converters/pretrain2seg.py`` wraps it).

    python -m mmssl_us.transfer SRC [DST] [--target {mmseg,mmdet,mmpretrain}] [--verify]
        [--backbone 'ResNet(deep_stem=True)'] [--adapter resnet] [--force]

SRC is a checkpoint file or a work dir (its ``last_checkpoint`` is used); DST defaults to
``backbone.pth`` next to the checkpoint (``backbone_<target>.pth`` for mmdet and mmpretrain),
e.g. ``work_dirs/r50_knee/backbone.pth``. The keys and meta fit the ``--target`` host's ResNet:

* mmseg (default): ``ResNetV1c`` for a deep stem, ``ResNet`` for a 7x7 stem (keys renamed);
* mmdet: ``ResNet(deep_stem=True)`` for a deep stem (mmdet has no ResNetV1c, and ResNetV1d's
  ``avg_down`` does not fit), ``ResNet`` for a 7x7 stem (keys renamed as for mmseg);
* mmpretrain: ``ResNetV1c`` / ``ResNet``, keys as the pretraining named them;
* ``--adapter unet``: the encoder of mmseg's ``UNet`` (pretrained as ``UNetEncoder``); the
  file holds every ``encoder.*`` key and the decoder (``decoder.*``) is left to the
  fine-tuning, listed in ``meta['allowed_missing']``; ``--verify`` loads it into mmseg's UNet
  (every encoder key, no other key missing) and compares the encoder path's outputs.

``--backbone`` names the host backbone of one's config; a backbone the weights cannot fit
exactly (a deep-stem checkpoint for a 7x7-stem ``ResNet``) is refused, nothing is written, and
the error names the setting that fits. Load the file with ``backbone=dict(...,
init_cfg=dict(type='VerifiedPretrained', checkpoint=DST))`` (``custom_imports=
dict(imports=['mmssl_us.transfer.init'])`` in mmdet / mmpretrain configs), which fails on any
missing or unexpected key where mmengine's ``Pretrained`` only warns. ``--verify`` builds the
host's backbone like the checkpoint, loads the weights, and fails unless no key is missing, none
is unexpected, every loaded tensor equals its source and the pretrained and the converted
network give equal outputs on a fixed input (eval mode).
"""
import argparse
import os.path as osp
import sys
from typing import List, Optional

from .adapters import ADAPTERS, HOSTS
from .convert import convert_checkpoint, resolve_source

__all__ = ['main']


def main(argv: Optional[List[str]] = None) -> int:
    """Parse ``argv`` (default ``sys.argv[1:]``), convert, print what was done; return 0
    (2 when the conversion is refused)."""
    parser = argparse.ArgumentParser(
        prog='python -m mmssl_us.transfer',
        description='Turn a pretraining checkpoint (DenseCL / MoCo v2 / SimCLR / BYOL) into a '
        'backbone checkpoint for mmsegmentation, mmdetection or mmpretrain')
    parser.add_argument('src', help='pretraining checkpoint (or its work dir)')
    parser.add_argument('dst', nargs='?', help='output (default: <checkpoint dir>/backbone.pth, '
                        'backbone_mmdet.pth or backbone_mmpretrain.pth)')
    parser.add_argument('--target', choices=HOSTS, default=None,
                        help='host whose backbone the file is for (default: mmseg, or the '
                        "host of --adapter's adapter)")
    parser.add_argument('--backbone', default=None,
                        help="the host backbone of your config, e.g. 'ResNet' or "
                        "'ResNet(deep_stem=True)': refused unless the weights fit it exactly "
                        '(default: write for the backbone that fits)')
    parser.add_argument('--verify', action='store_true',
                        help='check keys, tensors and outputs against the host backbone')
    parser.add_argument('--adapter', default='resnet', choices=sorted(ADAPTERS),
                        help='backbone family (and its default host) (default: resnet)')
    parser.add_argument('--force', action='store_true',
                        help='replace an existing output that is not a backbone file written by '
                        'this converter (the source checkpoint is never replaced)')
    args = parser.parse_args(argv)
    src = resolve_source(args.src)
    name = 'backbone.pth' if args.target in (None, 'mmseg') else f'backbone_{args.target}.pth'
    dst = args.dst or osp.join(osp.dirname(osp.abspath(src)), name)
    try:
        state_dict, meta = convert_checkpoint(src, dst, args.adapter, verify=args.verify,
                                              overwrite=args.force, target=args.target,
                                              backbone=args.backbone)
    except (ValueError, KeyError) as exc:
        print(f'error: {exc.args[0] if isinstance(exc, KeyError) else exc}', file=sys.stderr)
        return 2
    what = meta.get('backbone') or (f'depth {meta["depth"]}' if 'depth' in meta else '')
    print(f'{src} -> {dst}: {meta["num_keys"]} backbone keys for {meta["target"]} {what}; '
          f'dropped: {meta["dropped"] or "nothing"}' +
          (f'; left to the fine-tuning: {meta["allowed_missing"]}'
           if meta.get('allowed_missing') else ''))
    if args.verify:
        print('verified: ' + meta['verified'])
    return 0


if __name__ == '__main__':
    from ..cli import run_main
    sys.exit(run_main(main))
