"""Processes a study owns: children that die with their parent, and a lock on a work dir.

A study killed during its pretraining used to leave the pretraining process running; a re-run
then started a second trainer on the same work dir. Two mechanisms stop that, standard library
only:

* :func:`run_child` starts a command whose process gets SIGTERM when its parent dies (Linux's
  parent-death signal; elsewhere the child is simply started);
* :class:`WorkDirLock` holds an exclusive ``flock`` on ``<work_dir>/.lock`` (with the owner's
  pid written in it) for as long as a study runs; a second study on the same folder stops with
  a message naming the owner. The kernel drops the lock when its process ends, so a killed run
  never leaves a stale lock behind.
"""
import ctypes
import os
import os.path as osp
import signal
import subprocess
import sys
from typing import Dict, List, Optional

__all__ = ['run_child', 'WorkDirLock', 'WorkDirBusy']

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # pragma: no cover (runs in the child, before exec)
    try:
        ctypes.CDLL('libc.so.6', use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:
        pass


def run_child(cmd: List[str], env: Optional[Dict[str, str]] = None) -> None:
    """``subprocess.run(cmd, check=True)``, the child ending when this process ends."""
    preexec = _die_with_parent if sys.platform.startswith('linux') else None
    subprocess.run(cmd, check=True, env=env, preexec_fn=preexec)


class WorkDirBusy(RuntimeError):
    """Another process holds the work dir."""

    user_error = True  # a refusal: the tools print its sentence (mmssl_us.cli)


class WorkDirLock:
    """``with WorkDirLock(work_dir):`` -- exclusive use of a work dir by this process."""

    def __init__(self, work_dir: str) -> None:
        self.path = osp.join(work_dir, '.lock')
        self._fd: Optional[int] = None

    def __enter__(self) -> 'WorkDirLock':
        import fcntl
        os.makedirs(osp.dirname(self.path), exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = os.read(fd, 64).decode(errors='replace').strip() or 'unknown'
            os.close(fd)
            raise WorkDirBusy(f'{osp.dirname(self.path)} is in use by process {owner} (lock '
                              f'{self.path}): wait for it to finish or stop it first') from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd
        return self

    def __exit__(self, *exc) -> None:
        if self._fd is not None:
            os.close(self._fd)  # releases the flock
            self._fd = None
