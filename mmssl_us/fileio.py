"""Atomic file writes: a reader (or a restarted run) sees the old file or the new one, never half.

Every writer in the package that replaces a file goes through here: checkpoints and
``last_checkpoint`` (through :mod:`mmssl_us.checkpoint`), converted backbones, the study's
``results.csv``, the reports' plots, converted PNGs, the synthetic generator's images and
manifest. Standard library only at module level (:func:`atomic_save` imports torch when
called).

The new file gets the mode a plain ``open(path, 'w')`` would give it: the mode of the file it
replaces, or ``0o666`` less the umask for a new file (``mkstemp`` alone would leave ``0o600``,
unreadable for colleagues sharing a work dir).
"""
import contextlib
import errno
import os
import os.path as osp
import re
import shutil
import stat
import tempfile
from typing import IO, Any, Iterator, Union

__all__ = ['atomic_write', 'atomic_save', 'atomic_savefig', 'atomic_copy', 'atomic_open',
           'link_or_copy', 'clean_stale_temporaries']

_TMP_SUFFIX = '.tmp'
_TMP_NAME = re.compile(r'^\..+\.(\d+)\.[^./]+' + re.escape(_TMP_SUFFIX) + '$')


def _umask() -> int:
    """The process umask, read without changing it where the OS allows (Linux /proc)."""
    try:
        with open('/proc/self/status') as f:
            for line in f:
                if line.startswith('Umask:'):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)  # no read-only API elsewhere: set and restore at once
    os.umask(mask)
    return mask


def _target_mode(filepath: str) -> int:
    """The mode ``open(filepath, 'wb')`` would leave: kept if the file exists, else 0o666 & ~umask."""
    try:
        return stat.S_IMODE(os.stat(filepath).st_mode)
    except OSError:
        return 0o666 & ~_umask()


@contextlib.contextmanager
def atomic_open(filepath: str) -> Iterator[IO[bytes]]:
    """Open a binary temporary file that replaces ``filepath`` when the block ends without error.

    The temporary file has a unique name (``mkstemp``) in the folder of ``filepath``, so two
    writers to the same target never share it. At the end of the block it is flushed, fsynced,
    given the mode of :func:`_target_mode` and renamed over ``filepath`` with ``os.replace``. On
    any error (or a signal raised as an exception) it is removed and ``filepath`` is untouched.

    Args:
        filepath (str): The file to create or replace; missing folders are created.
    """
    filepath = str(filepath)
    folder = osp.dirname(osp.abspath(filepath))
    os.makedirs(folder, exist_ok=True)
    # the writer's pid in the name lets clean_stale_temporaries tell a dead writer's leftover
    # from a live writer's file
    fd, tmp = tempfile.mkstemp(prefix=f'.{osp.basename(filepath)}.{os.getpid()}.',
                               suffix=_TMP_SUFFIX, dir=folder)
    try:
        with os.fdopen(fd, 'wb') as f:
            yield f
            f.flush()
            os.fchmod(f.fileno(), _target_mode(filepath))
            os.fsync(f.fileno())
        os.replace(tmp, filepath)
    except BaseException as exc:
        if osp.exists(tmp):
            os.unlink(tmp)
        if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
            raise OSError(errno.ENOSPC, f'no space left on the device while writing {filepath} '
                          f'(it was left as it was; free space in {folder})') from None
        raise


def atomic_write(filepath: str, data: Union[bytes, str], encoding: str = 'utf-8') -> None:
    """Write ``data`` (bytes, or text in ``encoding``) to ``filepath`` atomically.

    Args:
        filepath (str): The file to create or replace.
        data (bytes | str): The whole new content.
        encoding (str): Encoding of ``data`` when it is text. Defaults to 'utf-8'.
    """
    payload = data.encode(encoding) if isinstance(data, str) else data
    with atomic_open(filepath) as f:
        f.write(payload)


def atomic_save(obj: Any, filepath: str) -> None:
    """``torch.save(obj, filepath)``, atomically (torch serialises into the temporary file)."""
    import torch
    with atomic_open(filepath) as f:
        torch.save(obj, f)


def atomic_savefig(fig: Any, filepath: str, **kwargs: Any) -> None:
    """``fig.savefig(filepath, **kwargs)`` for a matplotlib figure, atomically (the format is
    the file's suffix, as matplotlib reads it from a path; it cannot from a file object)."""
    fmt = kwargs.pop('format', None) or osp.splitext(str(filepath))[1][1:].lower() or 'png'
    with atomic_open(filepath) as f:
        fig.savefig(f, format=fmt, **kwargs)


def atomic_copy(src: str, dst: str) -> None:
    """Copy the bytes of ``src`` to ``dst`` atomically (streamed, so large files are fine).

    Raises:
        FileNotFoundError: ``src`` does not exist (``dst`` is then left as it was).
    """
    with open(src, 'rb') as fin, atomic_open(dst) as fout:
        shutil.copyfileobj(fin, fout, 1 << 20)


def link_or_copy(src: str, dst: str) -> bool:
    """Place ``src`` at ``dst`` as a hard link, or an atomic copy where links are impossible.

    A file of the same size already at ``dst`` is kept (placing twice does nothing); another
    file of that name is replaced. Either way ``dst`` appears whole or not at all.

    Args:
        src (str): An existing file.
        dst (str): Where it goes (folders are created).

    Returns:
        bool: True if ``dst`` was written, False if it was already there.
    """
    if osp.isfile(dst) and osp.getsize(dst) == osp.getsize(src):
        return False
    os.makedirs(osp.dirname(osp.abspath(dst)), exist_ok=True)
    if osp.lexists(dst):
        os.unlink(dst)
    try:
        os.link(src, dst)
    except OSError:  # another file system, or links not allowed
        atomic_copy(src, dst)
    return True


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def clean_stale_temporaries(folder: str, recursive: bool = False) -> list:
    """Remove the temporaries that :func:`atomic_open` writers left when they were killed.

    A temporary is named ``.<target>.<pid>.<random>.tmp``; it is removed only when no process
    with that pid is running (a live writer's file is left alone).

    Args:
        folder (str): Folder to clean (a missing folder is fine).
        recursive (bool): Also clean its sub-folders. Defaults to False.

    Returns:
        list[str]: The removed files.
    """
    removed = []
    if not osp.isdir(folder):
        return removed
    walk = os.walk(folder) if recursive else [(folder, [], os.listdir(folder))]
    for root, _, files in walk:
        for name in files:
            m = _TMP_NAME.match(name)
            if m and not _alive(int(m.group(1))):
                try:
                    os.unlink(osp.join(root, name))
                    removed.append(osp.join(root, name))
                except FileNotFoundError:
                    pass
    return removed
