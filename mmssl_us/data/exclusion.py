"""Keep evaluation images out of the pretraining pool: matching by file stem, by patient, by
md5 and by a perceptual hash (resized or re-encoded copies)."""
import os.path as osp
from typing import Dict, List, Optional, Sequence, Set

import numpy as np

from ..validate import check_int
from .index import default_index
from .media import IMAGE_SUFFIXES, VIDEO_SUFFIXES, media_stem, scan_media
from .splits import PatientRule, check_patient_rule, patient_id

__all__ = ['NEAR_DUPLICATE_BITS', 'MATCH_REASONS', 'ExclusionIndex']

#: bits of 256 within which two images count as copies (see :func:`media.dhash`)
NEAR_DUPLICATE_BITS = 24
#: what :meth:`ExclusionIndex.match` answers, in the order it checks
MATCH_REASONS = ('stem', 'patient', 'md5', 'content')


class ExclusionIndex:
    """Stems and content hashes of files that must not be used for pretraining.

    Sources (:meth:`from_sources`) are folders (every image and video below them, any depth),
    single image or video files, and ``.txt`` lists with one entry per line: a path (relative
    to the list's folder unless absolute) or a bare stem (``P01_0003``); blank lines and lines
    starting with ``#`` are skipped.

    A candidate is excluded, checked in this order, when

    - ``'stem'``: its stem (case-folded) is an excluded stem;
    - ``'patient'``: its patient id, read from its name by ``patient_rule``, is the patient of
      an excluded file (another frame of a test patient, ``P07.avi`` or ``P07_clip2.mp4``
      next to the test image ``P07_0003.png``); excluded files always follow the documented
      rule of the labelled layout (stem up to the first ``_``, :func:`splits.patient_id`);
    - ``'md5'``: its bytes have the md5 of an excluded image (a renamed identical copy);
    - ``'content'``: its difference hash is within ``near_bits`` of an excluded image's (a
      resized or re-encoded copy; this decodes each candidate once).

    Videos are matched by stem and patient only. Patient ids are compared case-folded.

    Args:
        stems (set[str]): Excluded stems (case-folded).
        md5s (dict[int, set[str]]): Excluded image hashes, keyed by file size in bytes.
        patients (set[str]): Excluded patient ids (case-folded).
        patient_rule (str | Callable): How a candidate's name carries its patient:
            'prefix' (default), 'stem', 'none' (never match by patient: a pool whose names
            carry no patient of this dataset) or a callable (see :func:`splits.patient_id`).
        near_bits (int): Bits of 256 within which a candidate is a near-duplicate.
            Defaults to NEAR_DUPLICATE_BITS.
    """

    def __init__(self, stems: Optional[Set[str]] = None,
                 md5s: Optional[Dict[int, Set[str]]] = None,
                 patients: Optional[Set[str]] = None,
                 patient_rule: PatientRule = 'prefix',
                 near_bits: int = NEAR_DUPLICATE_BITS) -> None:
        self.stems: Set[str] = {s.casefold() for s in (stems or set())}
        self.md5s: Dict[int, Set[str]] = {k: set(v) for k, v in (md5s or {}).items()}
        self.patients: Set[str] = {p.casefold() for p in (patients or set())}
        self.patient_rule = check_patient_rule(patient_rule)
        self.near_bits = check_int('near_bits', near_bits, 0, 255)
        self._dhashes: List[np.ndarray] = []
        self._stack: Optional[np.ndarray] = None

    def __len__(self) -> int:
        return len(self.stems)

    def add_stem(self, stem: str) -> None:
        """Exclude a stem and its patient (the documented rule).

        Args:
            stem (str): A file stem such as ``P01_0003``.
        """
        self.stems.add(stem.casefold())
        pid = patient_id(stem, 'prefix')
        if pid:
            self.patients.add(pid.casefold())

    def add_file(self, path: str, image_suffixes: Sequence[str] = IMAGE_SUFFIXES) -> None:
        """Exclude one image (stem, patient, md5 and difference hash) or video (stem and
        patient).

        Args:
            path (str): The file.
            image_suffixes (Sequence[str]): Suffixes hashed as images.
                Defaults to IMAGE_SUFFIXES.
        """
        self.add_stem(osp.splitext(osp.basename(path))[0])
        if osp.splitext(path)[1].lower() in image_suffixes:
            index = default_index()
            self.md5s.setdefault(osp.getsize(path), set()).add(index.md5(path))
            self._dhashes.append(index.dhash(path))
            self._stack = None

    @classmethod
    def from_sources(cls, sources: Sequence[str], root: str = '',
                     image_suffixes: Sequence[str] = IMAGE_SUFFIXES,
                     video_suffixes: Sequence[str] = VIDEO_SUFFIXES,
                     patient_rule: PatientRule = 'prefix',
                     near_bits: int = NEAR_DUPLICATE_BITS) -> 'ExclusionIndex':
        """Build the index from folders, files and ``.txt`` lists.

        Args:
            sources (Sequence[str]): The exclusion sources; relative paths are joined to
                ``root``.
            root (str): Folder that relative sources are relative to. Defaults to ''.
            image_suffixes (Sequence[str]): Image suffixes. Defaults to IMAGE_SUFFIXES.
            video_suffixes (Sequence[str]): Video suffixes. Defaults to VIDEO_SUFFIXES.
            patient_rule (str | Callable): How candidates' names carry their patient.
                Defaults to 'prefix'.
            near_bits (int): Near-duplicate threshold in bits. Defaults to
                NEAR_DUPLICATE_BITS.

        Raises:
            FileNotFoundError: a source, or a path listed in a ``.txt``, does not exist.
            ValueError: a source file is neither an image, a video nor a ``.txt`` list.
        """
        if isinstance(sources, str):
            sources = [sources]
        index = cls(patient_rule=patient_rule, near_bits=near_bits)
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
                    self.add_stem(entry)
                    continue
                path = entry if osp.isabs(entry) else osp.join(folder, entry)
                if not osp.isfile(path):
                    raise FileNotFoundError(
                        f'{list_path}, line {lineno}: listed file not found: {path}')
                self.add_file(path, image_suffixes)

    def patient_of(self, path: str) -> Optional[str]:
        """Case-folded patient id of a candidate by ``patient_rule`` (None: no patient).

        Args:
            path (str): A candidate file.
        """
        pid = patient_id(path, self.patient_rule)
        return pid.casefold() if pid else None

    def match(self, path: str, is_video: bool = False) -> Optional[str]:
        """Why ``path`` is excluded: ``'stem'``, ``'patient'``, ``'md5'``, ``'content'`` (a
        near-duplicate), or ``None`` when it is not (:data:`MATCH_REASONS`).

        Args:
            path (str): A candidate file.
            is_video (bool): Match by stem and patient only. Defaults to False.
        """
        if media_stem(path) in self.stems:
            return 'stem'
        if self.patients and self.patient_of(path) in self.patients:
            return 'patient'
        if not is_video:
            hashes = self.md5s.get(osp.getsize(path))
            if hashes and default_index().md5(path) in hashes:
                return 'md5'
            if self._dhashes:
                if self._stack is None:
                    self._stack = np.stack(self._dhashes)
                bits = np.count_nonzero(self._stack != default_index().dhash(path), axis=1)
                if int(bits.min()) <= self.near_bits:
                    return 'content'
        return None
