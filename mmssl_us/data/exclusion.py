"""Keep evaluation images out of the pretraining pool: matching by file stem, by md5 and by a
perceptual hash (resized or re-encoded copies)."""
import os.path as osp
from typing import Dict, List, Optional, Sequence, Set

import numpy as np

from .media import (IMAGE_SUFFIXES, VIDEO_SUFFIXES, dhash, file_md5, media_stem, read_image,
                    scan_media)

#: bits of 256 within which two images count as copies (see :func:`media.dhash`)
NEAR_DUPLICATE_BITS = 24


class ExclusionIndex:
    """Stems and content hashes of files that must not be used for pretraining.

    Sources (:meth:`from_sources`) are folders (every image and video below them, any depth),
    single image or video files, and ``.txt`` lists with one entry per line: a path (relative
    to the list's folder unless absolute) or a bare stem (``P01_0003``); blank lines and lines
    starting with ``#`` are skipped.

    A candidate image is excluded when its stem (case-folded) is an excluded stem, or when its
    bytes have the md5 of an excluded image (a renamed byte-identical copy), or when its
    difference hash is within :data:`NEAR_DUPLICATE_BITS` of an excluded image's (a resized or
    re-encoded copy; this decodes each candidate once). Videos are matched by stem only.

    Args:
        stems (set[str]): Excluded stems (case-folded).
        md5s (dict[int, set[str]]): Excluded image hashes, keyed by file size in bytes.
    """

    def __init__(self, stems: Optional[Set[str]] = None,
                 md5s: Optional[Dict[int, Set[str]]] = None) -> None:
        self.stems: Set[str] = {s.casefold() for s in (stems or set())}
        self.md5s: Dict[int, Set[str]] = {k: set(v) for k, v in (md5s or {}).items()}
        self._dhashes: List[np.ndarray] = []
        self._stack: Optional[np.ndarray] = None

    def __len__(self) -> int:
        return len(self.stems)

    def add_file(self, path: str, image_suffixes: Sequence[str] = IMAGE_SUFFIXES) -> None:
        """Exclude one image (stem and md5) or video (stem).

        Args:
            path (str): The file.
            image_suffixes (Sequence[str]): Suffixes hashed as images.
                Defaults to IMAGE_SUFFIXES.
        """
        self.stems.add(media_stem(path))
        if osp.splitext(path)[1].lower() in image_suffixes:
            self.md5s.setdefault(osp.getsize(path), set()).add(file_md5(path))
            self._dhashes.append(dhash(read_image(path)))
            self._stack = None

    @classmethod
    def from_sources(cls, sources: Sequence[str], root: str = '',
                     image_suffixes: Sequence[str] = IMAGE_SUFFIXES,
                     video_suffixes: Sequence[str] = VIDEO_SUFFIXES) -> 'ExclusionIndex':
        """Build the index from folders, files and ``.txt`` lists.

        Args:
            sources (Sequence[str]): The exclusion sources; relative paths are joined to
                ``root``.
            root (str): Folder that relative sources are relative to. Defaults to ''.
            image_suffixes (Sequence[str]): Image suffixes. Defaults to IMAGE_SUFFIXES.
            video_suffixes (Sequence[str]): Video suffixes. Defaults to VIDEO_SUFFIXES.

        Raises:
            FileNotFoundError: a source, or a path listed in a ``.txt``, does not exist.
            ValueError: a source file is neither an image, a video nor a ``.txt`` list.
        """
        if isinstance(sources, str):
            sources = [sources]
        index = cls()
        media = tuple(image_suffixes) + tuple(video_suffixes)
        for source in sources:
            path = source if osp.isabs(source) else osp.join(root, source)
            if osp.isdir(path):
                images, videos = scan_media(path, image_suffixes, video_suffixes)
                for f in images + videos:
                    index.add_file(f, image_suffixes)
            elif not osp.exists(path):
                raise FileNotFoundError(
                    f'exclusion source not found: {path} (the evaluation images listed in '
                    '"exclude" must exist, so that none of them can leak into pretraining; '
                    'pass exclude=[] to exclude nothing)')
            elif path.lower().endswith('.txt'):
                index._add_list(path, media, image_suffixes)
            elif osp.splitext(path)[1].lower() in media:
                index.add_file(path, image_suffixes)
            else:
                raise ValueError(f'exclusion source {path} is neither a folder, an image, a '
                                 f'video ({", ".join(media)}) nor a .txt list')
        return index

    def _add_list(self, list_path: str, media: Sequence[str],
                  image_suffixes: Sequence[str]) -> None:
        folder = osp.dirname(list_path)
        with open(list_path, encoding='utf-8') as f:
            for lineno, raw in enumerate(f, 1):
                entry = raw.strip()
                if not entry or entry.startswith('#'):
                    continue
                looks_like_path = ('/' in entry or '\\' in entry
                                   or osp.splitext(entry)[1].lower() in media)
                if not looks_like_path:
                    self.stems.add(entry.casefold())
                    continue
                path = entry if osp.isabs(entry) else osp.join(folder, entry)
                if not osp.isfile(path):
                    raise FileNotFoundError(
                        f'{list_path}, line {lineno}: listed file not found: {path}')
                self.add_file(path, image_suffixes)

    def match(self, path: str, is_video: bool = False) -> Optional[str]:
        """Why ``path`` is excluded: ``'stem'``, ``'md5'``, ``'content'`` (a near-duplicate),
        or ``None`` when it is not.

        Args:
            path (str): A candidate file.
            is_video (bool): Match by stem only. Defaults to False.
        """
        if media_stem(path) in self.stems:
            return 'stem'
        if not is_video:
            hashes = self.md5s.get(osp.getsize(path))
            if hashes and file_md5(path) in hashes:
                return 'md5'
            if self._dhashes:
                if self._stack is None:
                    self._stack = np.stack(self._dhashes)
                bits = np.count_nonzero(self._stack != dhash(read_image(path)), axis=1)
                if int(bits.min()) <= NEAR_DUPLICATE_BITS:
                    return 'content'
        return None
