"""Run (or resume) a label-efficiency study: python tools/run_study.py STUDY_CONFIG [--work-dir D]
[--cfg-options study.data_root=DIR "study.classes=['background','nerve']" ...]

Pretrains once (or reuses a checkpoint), fine-tunes every label fraction x initialisation x seed,
evaluates each on the fixed test split and writes results.csv, results.md and the plots.
An interrupted study picks up where it stopped. The logic is in mmssl_us/study/ (cli.py,
runner.py); ``mmssl-us-study`` is the same command in an installed package.
"""
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))  # run from a checkout

from mmssl_us.cli import run_main  # noqa: E402
from mmssl_us.study.cli import main  # noqa: E402

if __name__ == '__main__':
    sys.exit(run_main(main))
