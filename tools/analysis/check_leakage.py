"""Report duplicates and shared patients within and across the splits and the pretraining pool.

Example::

    python tools/analysis/check_leakage.py data/hc18 --json work_dirs/leakage.json

Exit status: 1 when a val/test image or patient is linked to another split or to the pool
(cross-split leakage), 2 on bad input (a missing folder, an unreadable image), 0 otherwise.
The logic lives in :mod:`mmssl_us.data.leakage` (also ``python -m mmssl_us.data.leakage``).
"""
import sys

from mmssl_us.data.leakage import main

if __name__ == '__main__':
    from mmssl_us.cli import run_main  # noqa: E402
    sys.exit(run_main(main))
