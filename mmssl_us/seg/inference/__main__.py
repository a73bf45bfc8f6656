"""``python -m mmssl_us.seg.inference``: see :mod:`mmssl_us.seg.inference.cli`."""
import sys

from mmssl_us.cli import run_main
from mmssl_us.seg.inference.cli import main

sys.exit(run_main(main))
