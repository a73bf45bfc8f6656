"""Train a pretraining or segmentation config: python tools/train.py CONFIG [options].

See ``python tools/train.py --help``; the logic is in mmssl_us.launch.
"""
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))  # run from a checkout

from mmssl_us.cli import run_main  # noqa: E402
from mmssl_us.launch import run_train  # noqa: E402

if __name__ == '__main__':
    sys.exit(run_main(run_train))
