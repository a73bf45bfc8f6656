"""Evaluate a checkpoint: python tools/test.py CONFIG CHECKPOINT [options].

Prints mIoU / mDice per class and mean (and the config's other metrics). See --help.
"""
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))  # run from a checkout

from mmssl_us.cli import run_main  # noqa: E402
from mmssl_us.launch import run_test  # noqa: E402

if __name__ == '__main__':
    sys.exit(run_main(run_test))
