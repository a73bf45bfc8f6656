"""Run (or resume) a label-efficiency study: python tools/run_study.py STUDY_CONFIG [--work-dir D]
[--cfg-options study.data_root=DIR "study.classes=['background','nerve']" ...]

Pretrains once (or reuses a checkpoint), fine-tunes every label fraction x initialisation x seed,
evaluates each on the fixed test split and writes results.csv, results.md and the plots.
An interrupted study picks up where it stopped. See mmssl_us/study/runner.py.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))  # run from a checkout

from mmengine.config import DictAction  # noqa: E402

from mmssl_us.cli import run_main  # noqa: E402
from mmssl_us.study.runner import run_study  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='study config (configs/study/*.py)')
    parser.add_argument('--work-dir', help='default: work_dirs/study/<config name>')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config keys, e.g. study.data_root=DIR '
                        '"study.classes=[\'background\',\'nerve\']" study.seeds=[0,1]')
    parser.add_argument('--report-only', action='store_true',
                        help='write results.md and the plots from the runs finished so far '
                        '(an interrupted study); trains nothing')
    args = parser.parse_args(argv)
    run_study(args.config, args.work_dir, cfg_options=args.cfg_options,
              report_only=args.report_only)
    return 0


if __name__ == '__main__':
    sys.exit(run_main(main))
