"""Distributed evaluation: python tools/dist_test.py CONFIG CHECKPOINT GPUS [test.py options].

Starts GPUS processes with torchrun (torch.distributed.run), each running tools/test.py with
--launcher pytorch. NNODES, NODE_RANK, MASTER_ADDR and PORT are read from the environment.
"""
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))  # run from a checkout

from mmssl_us.distributed import dist_test_main  # noqa: E402

if __name__ == '__main__':
    from mmssl_us.cli import run_main  # noqa: E402
    sys.exit(run_main(dist_test_main))
