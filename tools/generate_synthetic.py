"""Write the synthetic knee dataset (the project's default data) in the layout the knee configs
read. Re-running with the same arguments on a complete folder does nothing.

Example:
    python tools/generate_synthetic.py --out data/knee --patients 40 --frames 5 \\
        --unlabelled 400 --size 256 --seed 0 --workers 2

Same as ``python -m mmssl_us.synthetic.cli``; the options are in :mod:`mmssl_us.synthetic.cli`.
"""
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))  # run from a checkout

from mmssl_us.synthetic.cli import main  # noqa: E402

if __name__ == '__main__':
    from mmssl_us.cli import run_main  # noqa: E402
    sys.exit(run_main(main))
