"""Run (or resume) a label-efficiency study: python tools/run_study.py STUDY_CONFIG [--work-dir D]

Pretrains once (or reuses a checkpoint), fine-tunes every label fraction x initialisation x seed,
evaluates each on the fixed test split and writes results.csv, results.md and the plots.
An interrupted study picks up where it stopped. See mmssl_us/study/runner.py.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))  # run from a checkout

from mmssl_us.study.runner import run_study  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='study config (configs/study/*.py)')
    parser.add_argument('--work-dir', help='default: work_dirs/study/<config name>')
    args = parser.parse_args()
    run_study(args.config, args.work_dir)


if __name__ == '__main__':
    main()
