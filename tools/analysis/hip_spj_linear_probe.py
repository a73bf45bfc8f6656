"""Linear probe on the infant-hip standard-plane images: DenseCL vs same-start vs random backbones.

    python tools/analysis/hip_spj_linear_probe.py \
        --data ../shared/data/nhbs_hip_spj/SPJ_dataset \
        --densecl work_dirs/study/hc18_cpu/pretrain/densecl/final.pth \
        --start work_dirs/study/hc18_cpu/pretrain/densecl/start_weights.pth --depth 18

What it does and how: mmssl_us/pretrain/linear_probe.py (see --help).
"""
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))  # a checkout

from mmssl_us.cli import run_main  # noqa: E402
from mmssl_us.pretrain.linear_probe import main  # noqa: E402

if __name__ == '__main__':
    sys.exit(run_main(main))
