"""Run (or resume) a label-efficiency study: STUDY_CONFIG [--work-dir D]
[--cfg-options study.data_root=DIR "study.classes=['background','nerve']" ...]

Pretrains once (or reuses a checkpoint), fine-tunes every label fraction x initialisation x seed,
evaluates each on the fixed test split and writes results.csv, results.md and the plots.
An interrupted study picks up where it stopped. ``tools/run_study.py`` and the installed
``mmssl-us-study`` command run :func:`main`; the work is in :mod:`mmssl_us.study.runner`.
"""
from __future__ import annotations

import argparse
from typing import List, Optional

__all__ = ['main']


def main(argv: Optional[List[str]] = None) -> int:
    from mmengine.config import DictAction

    from .runner import run_study
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='study config (configs/study/*.py; an installed package '
                        'finds its own configs/ when the path does not exist here)')
    parser.add_argument('--work-dir', help='default: work_dirs/study/<config name>')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config keys, e.g. study.data_root=DIR '
                        '"study.classes=[\'background\',\'nerve\']" study.seeds=[0,1]')
    parser.add_argument('--jobs', type=int,
                        help='fine-tuning runs at once, each in its own process on its share '
                        'of the threads (study.jobs; default 1). On a 2-core CPU, 2 finish a '
                        'study sooner')
    parser.add_argument('--report-only', action='store_true',
                        help='write results.md and the plots from the runs finished so far '
                        '(an interrupted study); trains nothing')
    args = parser.parse_args(argv)
    if args.jobs is not None:
        args.cfg_options = dict(args.cfg_options or {}, **{'study.jobs': args.jobs})
    if _is_volume_study(args.config):  # a `volume` dict: the 3D study (mmssl_us.volume.study)
        if args.jobs is not None:
            raise ValueError('--jobs is for 2D studies; a 3D study fine-tunes one run at a '
                             'time through nnU-Net')
        if args.report_only:
            raise ValueError('--report-only is for 2D studies; a 3D study writes its report '
                             'whenever it is run again (finished runs are skipped)')
        from ..volume.study import run_from_config
        run_from_config(args.config, args.work_dir, cfg_options=args.cfg_options)
        return 0
    run_study(args.config, args.work_dir, cfg_options=args.cfg_options,
              report_only=args.report_only)
    return 0


def _is_volume_study(path: str) -> bool:
    """Whether the config at ``path`` holds a ``volume`` dict and no ``study`` dict."""
    import os.path as osp

    from mmengine.config import Config

    from ..config_utils import resolve_config
    path = resolve_config(path)
    if not osp.isfile(path):
        return False  # the 2D runner names the missing file
    cfg = Config.fromfile(path)
    return 'volume' in cfg and 'study' not in cfg
