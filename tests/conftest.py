import os
import os.path as osp
import sys

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
os.environ.setdefault('MPLBACKEND', 'Agg')
# the data index (mmssl_us.data.index) of the tests' own files stays with this run, not in the
# user's ~/.cache (subprocesses inherit it)
if 'MMSSL_US_CACHE_DIR' not in os.environ:
    import tempfile
    os.environ['MMSSL_US_CACHE_DIR'] = tempfile.mkdtemp(prefix='mmssl_us-test-cache-')
