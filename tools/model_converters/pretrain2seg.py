"""Turn a pretraining checkpoint (DenseCL / MoCo v2 / SimCLR / BYOL) into a backbone checkpoint
for mmsegmentation (default), mmdetection or mmpretrain ResNets.

    python tools/model_converters/pretrain2seg.py SRC [DST] [--target {mmseg,mmdet,mmpretrain}]
        [--backbone 'ResNet(deep_stem=True)'] [--verify] [--force]

Same as ``python -m mmssl_us.transfer``; see :mod:`mmssl_us.transfer.cli` for the options.
"""
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))  # a checkout

from mmssl_us.transfer import main  # noqa: E402

if __name__ == '__main__':
    from mmssl_us.cli import run_main  # noqa: E402
    sys.exit(run_main(main))
