"""``python -m mmssl_us.transfer SRC [DST] [--verify]``: see :mod:`mmssl_us.transfer.cli`."""
import sys

from ..cli import run_main

from .cli import main

sys.exit(run_main(main, prog='mmssl_us.transfer'))
