"""Atomic file writes: a reader (or a restarted run) sees the old file or the new one, never half.

Used for checkpoints and ``last_checkpoint`` (through :mod:`mmssl_us.checkpoint`) and for the
study's ``results.csv``. Standard library only.
"""
import os
import os.path as osp
import tempfile
from typing import Union

__all__ = ['atomic_write']


def atomic_write(filepath: str, data: Union[bytes, str], encoding: str = 'utf-8') -> None:
    """Write ``data`` (bytes, or text in ``encoding``) to ``filepath`` atomically.

    The data goes to a temporary file in the same folder, is flushed and fsynced, and is then
    renamed over ``filepath`` with ``os.replace``. On any error (or a signal raised as an
    exception) the temporary file is removed and ``filepath`` is left as it was.
    """
    folder = osp.dirname(osp.abspath(filepath))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix='.' + osp.basename(filepath) + '.', suffix='.tmp',
                               dir=folder)
    try:
        with os.fdopen(fd, 'wb') as f:
            f.write(data.encode(encoding) if isinstance(data, str) else data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, filepath)
    except BaseException:
        if osp.exists(tmp):
            os.unlink(tmp)
        raise
