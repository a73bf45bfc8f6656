"""Turn a pretraining checkpoint (DenseCL / MoCo v2 / SimCLR / BYOL) into a backbone checkpoint
for mmsegmentation / mmdetection ResNet(V1c) backbones.

    python tools/model_converters/pretrain2seg.py SRC [DST] [--verify]

SRC is a checkpoint file or a work dir (its ``last_checkpoint`` is used); DST defaults to
``backbone.pth`` next to the checkpoint, e.g. ``work_dirs/r50_knee/backbone.pth``. In mmssl_us
configs load it with ``backbone=dict(..., init_cfg=dict(type='VerifiedPretrained',
checkpoint=DST))``, which fails on any missing or unexpected key; other OpenMMLab projects
(mmseg, mmdet) load it with their usual ``type='Pretrained'``. ``--verify`` builds
mmseg's ResNetV1c (ResNet for a 7x7 stem) of the same depth, loads the weights, and fails unless
no key is missing, none is unexpected and every loaded tensor equals its source.
The logic is in :mod:`mmssl_us.pretrain.convert`.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from mmssl_us.pretrain.convert import convert_checkpoint, load_and_verify  # noqa: E402


def resolve_source(src: str) -> str:
    """A checkpoint path, or the ``last_checkpoint`` recorded in a work dir."""
    if osp.isdir(src):
        record = osp.join(src, 'last_checkpoint')
        if not osp.isfile(record):
            raise FileNotFoundError(f'{src} is a folder without a last_checkpoint file; '
                                    'pass the checkpoint file itself')
        with open(record, encoding='utf-8') as f:
            path = f.read().strip()
        return path if osp.isabs(path) or osp.isfile(path) else osp.join(src, osp.basename(path))
    if not osp.isfile(src):
        raise FileNotFoundError(f'checkpoint not found: {src}')
    return src


def verify_with_mmseg(state_dict: dict, meta: dict) -> str:
    """Build mmseg's ResNet(V1c) like the checkpoint and load it exactly; return its name."""
    from mmseg.models.backbones import ResNet, ResNetV1c  # lazy: only the tool imports mmseg
    cls = ResNetV1c if meta['deep_stem'] else ResNet
    # FCN R50-D8's dilated layout: dilation changes no key or shape, so this checks both.
    backbone = cls(depth=meta['depth'], in_channels=meta['in_channels'],
                   dilations=(1, 1, 2, 4), strides=(1, 2, 1, 1), contract_dilation=True)
    load_and_verify(backbone, state_dict)
    return f'mmseg {cls.__name__}(depth={meta["depth"]}), {len(state_dict)} keys'


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('src', help='pretraining checkpoint (or its work dir)')
    parser.add_argument('dst', nargs='?', help='output (default: <checkpoint dir>/backbone.pth)')
    parser.add_argument('--verify', action='store_true',
                        help='check that mmseg ResNet(V1c) loads it with no missing/unexpected key')
    args = parser.parse_args(argv)
    src = resolve_source(args.src)
    dst = args.dst or osp.join(osp.dirname(osp.abspath(src)), 'backbone.pth')
    state_dict, meta = convert_checkpoint(src, dst)
    print(f'{src} -> {dst}: {meta["num_keys"]} backbone keys ({meta["target"]}, depth '
          f'{meta["depth"]}); dropped: {meta["dropped"] or "nothing"}')
    if args.verify:
        print('verified: loads into ' + verify_with_mmseg(state_dict, meta) +
              ' with 0 missing, 0 unexpected, all tensors equal')
    return 0


if __name__ == '__main__':
    sys.exit(main())
