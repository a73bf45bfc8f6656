"""The data index: what the data checks read off each image file, computed once per version of
the file and kept on disk.

The leakage report (:mod:`.leakage`), run by the study before pretraining, and the pool
exclusion (:mod:`.exclusion`), run by the pretraining process when its dataset is built, both
compare images by md5 (renamed copies) and by the difference hash (:func:`.media.dhash`:
resized or re-encoded copies). Each decoded every image itself, so a pool image was read
twice more before the first training step. :class:`FileIndex` answers both from one record
per file: its resolved path, size and modification time as the key, the md5 and the packed
256-bit hash and whether PIL decoded the whole file as values, computed on the first request and saved (atomically) in a JSON file
that later processes load. A file rewritten since (another size or time) is read again, and one
modified in the last two seconds is read every time (its time may not tell a rewrite yet).

The index file is ``$MMSSL_US_CACHE_DIR/file_index.json``, by default
``~/.cache/mmssl_us/file_index.json``; ``MMSSL_US_CACHE_DIR=off`` keeps it in memory only. It
is a cache: deleting it loses nothing, and a folder where it cannot be written leaves it in
memory. Standard library, numpy and cv2 (through :mod:`.media`).
"""
from __future__ import annotations

import json
import os
import os.path as osp
import time
from typing import Dict, List, Optional, Tuple

import numpy as np

from .media import dhash, file_md5, read_image

__all__ = ['FileIndex', 'default_index', 'index_path', 'RACY_NS']

#: a file modified less than this long ago (ns) is read but not indexed (git's "racy" case)
RACY_NS = 2 * 10**9

_FORMAT = 2  # entries: [size, mtime_ns, md5, packed dhash (hex), fully decoded by PIL]


def index_path() -> Optional[str]:
    """Where the index is kept (None: in memory only)."""
    folder = os.environ.get('MMSSL_US_CACHE_DIR')
    if folder == 'off':
        return None
    folder = folder or osp.join(osp.expanduser('~'), '.cache', 'mmssl_us')
    return osp.join(folder, 'file_index.json')


class FileIndex:
    """md5 and packed difference hash of image files, cached per file version.

    Args:
        path (str, optional): The JSON index file; None keeps the index in memory. Defaults to
            :func:`index_path`'s answer, read when the index is made.
    """

    def __init__(self, path: Optional[str] = '') -> None:
        self.path = index_path() if path == '' else path
        self._entries: Dict[str, list] = {}
        self._dirty = False
        self.reads = 0  # files decoded or hashed by this index (the tests count them)
        if self.path and osp.isfile(self.path):
            try:
                with open(self.path, encoding='utf-8') as f:
                    data = json.load(f)
                if data.get('format') == _FORMAT:
                    self._entries = dict(data.get('files') or {})
            except (OSError, ValueError, AttributeError):
                self._entries = {}  # a damaged cache is rebuilt, never trusted

    @staticmethod
    def _key(path: str) -> Tuple[str, int, int]:
        real = osp.realpath(path)
        st = os.stat(real)
        return real, st.st_size, st.st_mtime_ns

    def _entry(self, path: str) -> Tuple[str, list]:
        real, size, mtime = self._key(path)
        entry = self._entries.get(real)
        if entry is None or entry[0] != size or entry[1] != mtime:
            entry = [size, mtime, None, None, False]
            if time.time_ns() - mtime >= RACY_NS:
                self._entries[real] = entry
            # else: written moments ago, so a rewrite of the same size could keep this
            # modification time (file times are coarser than a nanosecond): computed, not kept
        return real, entry

    def md5(self, path: str) -> str:
        """The hex md5 of the file's bytes."""
        _, entry = self._entry(path)
        if entry[2] is None:
            entry[2] = file_md5(path)
            self.reads += 1
            self._dirty = True
        return entry[2]

    def packed_dhash(self, path: str) -> np.ndarray:
        """The image's difference hash, packed into 32 bytes (``np.packbits``)."""
        _, entry = self._entry(path)
        if entry[3] is None:
            entry[3] = np.packbits(dhash(read_image(path))).tobytes().hex()
            self.reads += 1
            self._dirty = True
        return np.frombuffer(bytes.fromhex(entry[3]), np.uint8).copy()

    def dhash(self, path: str) -> np.ndarray:
        """The image's difference hash as :func:`mmssl_us.data.media.dhash` gives it (256
        booleans)."""
        return np.unpackbits(self.packed_dhash(path)).astype(bool)

    def check_decodes(self, path: str, where: str = 'image') -> None:
        """Decode the whole file with PIL once per version (it finds truncated files that
        OpenCV half-decodes without a word); a success is remembered.

        Raises:
            ValueError: naming the file, ``where`` it lies and PIL's reason.
        """
        _, entry = self._entry(path)
        if len(entry) > 4 and entry[4]:
            return
        from PIL import Image
        try:
            with Image.open(path) as img:
                img.load()
        except Exception as exc:  # PIL raises OSError, ValueError, SyntaxError, ... by format
            raise ValueError(f'corrupt {where}: {path} ({exc}); remove or re-export it') \
                from None
        self.reads += 1
        if len(entry) < 5:
            entry.append(False)
        entry[4] = True
        self._dirty = True

    def save(self) -> None:
        """Write the index when something was added (atomically; a folder that cannot be
        written leaves the index in memory)."""
        if not self.path or not self._dirty:
            return
        from ..fileio import atomic_write
        try:
            os.makedirs(osp.dirname(self.path), exist_ok=True)
            atomic_write(self.path, json.dumps(dict(format=_FORMAT, files=self._entries)))
            self._dirty = False
        except OSError:
            pass

    def paths(self) -> List[str]:
        """The files the index holds (resolved paths)."""
        return sorted(self._entries)


_DEFAULT: Dict[Optional[str], FileIndex] = {}


def default_index() -> FileIndex:
    """This process's index at :func:`index_path` (made, and loaded, on first use)."""
    path = index_path()
    if path not in _DEFAULT:
        _DEFAULT[path] = FileIndex(path)
    return _DEFAULT[path]
