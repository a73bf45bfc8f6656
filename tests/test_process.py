"""Children die with their parent; one process per work dir (issue 10, case 12)."""
import os
import signal
import subprocess
import sys
import time

import pytest

from mmssl_us.process import WorkDirBusy, WorkDirLock

PARENT = r'''
import sys
sys.path.insert(0, sys.argv[1])
from mmssl_us.process import run_child
run_child([sys.executable, '-c', 'import os, time; open(%r, "w").write(str(os.getpid())); '
           'time.sleep(60)' % sys.argv[2]])
'''


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith('linux'), reason='parent-death signal: Linux')
def test_a_killed_parent_takes_its_child_along(tmp_path):
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    pidfile = tmp_path / 'child.pid'
    parent = subprocess.Popen([sys.executable, '-c', PARENT, root, str(pidfile)])
    for _ in range(200):
        if pidfile.exists() and pidfile.read_text():
            break
        time.sleep(0.05)
    child = int(pidfile.read_text())
    os.kill(child, 0)  # running
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    for _ in range(100):
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    else:
        os.kill(child, signal.SIGKILL)
        pytest.fail('the child outlived its killed parent')


def test_work_dir_lock_names_the_owner_and_is_released(tmp_path):
    with WorkDirLock(str(tmp_path)):
        with pytest.raises(WorkDirBusy, match=rf'in use by process {os.getpid()}'):
            with WorkDirLock(str(tmp_path)):
                pass
    with WorkDirLock(str(tmp_path)):  # released on exit: usable again
        pass
