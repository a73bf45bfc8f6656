"""``python -m mmssl_us.seg.inference``: see :mod:`mmssl_us.seg.inference.cli`."""
import sys

from ...cli import run_main
from .cli import main

sys.exit(run_main(main))
