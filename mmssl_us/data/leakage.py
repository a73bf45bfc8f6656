"""Leakage between the splits of a dataset and its pretraining pool (numpy / OpenCV only).

:func:`find_leakage` reads a dataset root in the knee layout (``images/{train,val,test}/`` and
the pool ``unlabelled/``, docs/CONTRACTS.md) and lists

- ``'exact'``: byte-identical images (same md5), grouped;
- ``'near'``: images whose 256-bit difference hash (:func:`media.dhash`) differs in at most
  ``near_bits`` bits without being identical: resized, re-encoded or barely changed copies;
- ``'stem'``: files of one name (case-folded stem) in different places;
- ``'patient'``: patients with files in more than one labelled split;
- ``'pool_patient'``: pool files (images and videos) named after a val/test patient.

Each finding is *cross-split* (leakage: it links a val or test image or patient to anything
outside its own split, i.e. to train, to the pool or to the other evaluation split) or
*within* one place (a warning: duplicates inside a split weigh some images twice, but nothing
is learnt about an evaluation image). The pool is not compared with the training split: it is
normally built from it (:func:`mmssl_us.data.pool.build_pool`). Videos are matched by name
(stem and patient) only.

Run it as ``python -m mmssl_us.data.leakage DATA_ROOT`` (or ``tools/analysis/check_leakage.py``):
it prints a summary, optionally writes the report as JSON, and exits 1 on cross-split leakage,
2 on bad input and 0 otherwise.
"""
import argparse
import json
import os
import os.path as osp
import sys
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

from ..fileio import atomic_write
from ..validate import check_int
from .exclusion import NEAR_DUPLICATE_BITS
from .index import default_index
from .media import IMAGE_SUFFIXES, VIDEO_SUFFIXES, scan_media
from .splits import (SPLITS, PATIENT_RULES, PatientRule, check_patient_rule, group_by_patient,
                     patient_id)

__all__ = ['CATEGORIES', 'POOL', 'LeakageItem', 'LeakageReport', 'find_leakage', 'main']

#: kinds of findings, in the order the summary lists them
CATEGORIES = ('exact', 'near', 'stem', 'patient', 'pool_patient')
#: the location name of the pretraining pool in a report (splits are named by their folder)
POOL = 'pool'
#: where the model learns from: links between these two are expected, not reported
_OPEN = ('train', POOL)

_TITLES = dict(exact='exact duplicates (same md5)',
               near='near duplicates (difference hash)',
               stem='same file name',
               patient='patients in more than one split',
               pool_patient='pool files of val/test patients')


@dataclass(frozen=True)
class LeakageItem:
    """One finding.

    Attributes:
        category (str): One of :data:`CATEGORIES`.
        where (tuple[str, ...]): The places involved (split names in the order checked, then
            ``'pool'``).
        files (tuple[str, ...]): The files, relative to the data root, in the same order.
        detail (str): The md5, the bit distance (``'9 bits'``), the stem or the patient id.
        cross (bool): True for leakage (links a val/test file or patient to another place),
            False for a duplicate within one place.
    """
    category: str
    where: Tuple[str, ...]
    files: Tuple[str, ...]
    detail: str
    cross: bool

    def to_dict(self) -> dict:
        """The item as JSON-ready types."""
        return dict(category=self.category, where=list(self.where), files=list(self.files),
                    detail=self.detail, cross=self.cross)


@dataclass
class LeakageReport:
    """What :func:`find_leakage` found.

    Attributes:
        data_root (str): The dataset root checked.
        splits (tuple[str, ...]): The labelled splits checked (``images/<split>``).
        pool (str | None): The pool folder under the data root, or None when not checked.
        near_bits (int): Near-duplicate threshold in bits (of 256).
        patient_rule (str): How pool names carry patients ('prefix', 'stem', 'none' or the
            callable's name).
        counts (dict[str, int]): Images per place (split names, ``'pool'``) and
            ``'pool_videos'``.
        patients (dict[str, int]): Distinct patients per labelled split.
        items (list[LeakageItem]): Every finding, cross-split and within.
    """
    data_root: str
    splits: Tuple[str, ...]
    pool: Optional[str]
    near_bits: int
    patient_rule: str
    counts: Dict[str, int] = field(default_factory=dict)
    patients: Dict[str, int] = field(default_factory=dict)
    items: List[LeakageItem] = field(default_factory=list)

    @property
    def cross_split(self) -> List[LeakageItem]:
        """The findings that are leakage (empty when the data are clean)."""
        return [item for item in self.items if item.cross]

    @property
    def within(self) -> List[LeakageItem]:
        """Duplicates within one split or within the pool (warnings)."""
        return [item for item in self.items if not item.cross]

    def category_counts(self, cross: bool) -> Dict[str, int]:
        """Number of findings per category, cross-split (``cross=True``) or within.

        Args:
            cross (bool): Count the cross-split findings, else the within ones.
        """
        counts = {c: 0 for c in CATEGORIES}
        for item in self.items:
            if item.cross == cross:
                counts[item.category] += 1
        return counts

    def summary(self, max_files: int = 5) -> str:
        """A readable report: what was checked, counts per category and some file names.

        Args:
            max_files (int): Findings listed per category (each with its files, up to this
                many). Defaults to 5.

        Returns:
            str: Several lines, no trailing newline.
        """
        max_files = check_int('max_files', max_files, 0)
        places = ', '.join(f'{s} {self.counts.get(s, 0)} images / '
                           f'{self.patients.get(s, 0)} patients' for s in self.splits)
        if self.pool is not None:
            places += (f'; pool {self.pool}: {self.counts.get(POOL, 0)} images, '
                       f'{self.counts.get("pool_videos", 0)} videos')
        lines = [f'Leakage check of {self.data_root} (near duplicates: <= {self.near_bits} of '
                 f'256 bits; pool patient rule {self.patient_rule!r})', f'  checked: {places}']
        for cross in (True, False):
            items = [i for i in self.items if i.cross == cross]
            counts = self.category_counts(cross)
            if cross:
                head = ('CROSS-SPLIT LEAKAGE: ' if items else 'cross-split leakage: none')
            else:
                head = ('within-split duplicates (warnings, not leakage): '
                        if items else 'within-split duplicates: none')
            if items:
                head += ', '.join(f'{n} {_TITLES[c]}' for c, n in counts.items() if n)
            lines.append('  ' + head)
            for category in CATEGORIES:
                chosen = [i for i in items if i.category == category]
                if not chosen or max_files == 0:
                    continue
                lines.append(f'    {_TITLES[category]} ({len(chosen)}):')
                for item in chosen[:max_files]:
                    shown = list(item.files[:max_files])
                    more = len(item.files) - len(shown)
                    lines.append(f'      [{"/".join(item.where)}] {item.detail}: '
                                 + ', '.join(shown) + (f' (+{more} more)' if more else ''))
                if len(chosen) > max_files:
                    lines.append(f'      ... and {len(chosen) - max_files} more')
        if self.pool is not None:
            lines.append('  (the pool is not compared with train: it is built from it)')
        return '\n'.join(lines)

    def to_dict(self) -> dict:
        """The report as JSON-ready types (``json.dumps`` works on it)."""
        return dict(data_root=self.data_root, splits=list(self.splits), pool=self.pool,
                    near_bits=self.near_bits, patient_rule=self.patient_rule,
                    counts=dict(self.counts), patients=dict(self.patients),
                    leakage=bool(self.cross_split),
                    cross_split_counts=self.category_counts(True),
                    within_counts=self.category_counts(False),
                    items=[item.to_dict() for item in self.items])


def _classify(places: Sequence[str]) -> Optional[bool]:
    """True: leakage; False: duplicates within one place; None: nothing to report.

    ``places`` holds one entry per file (repeats mean several files in one place).
    """
    distinct = set(places)
    evaluation = distinct - set(_OPEN)
    if evaluation and len(distinct) >= 2:
        return True
    if len(places) > len(distinct):  # some place holds two of them
        return False
    return None


def _rule_name(rule: PatientRule) -> str:
    return rule if isinstance(rule, str) else getattr(rule, '__name__', repr(rule))


class _Files:
    """The files checked: place, absolute path and path relative to the root, per index."""

    def __init__(self, root: str, places: Sequence[str]) -> None:
        self.root = root
        self.order = {p: n for n, p in enumerate(places)}
        self.places: List[str] = []
        self.paths: List[str] = []
        self.rel: List[str] = []

    def add(self, place: str, path: str) -> None:
        self.places.append(place)
        self.paths.append(path)
        self.rel.append(osp.relpath(path, self.root))

    def item(self, category: str, indices: Sequence[int], detail: str, cross: bool,
             where: Sequence[str] = ()) -> LeakageItem:
        """A finding on the files ``indices``, placed where they are (and in ``where``)."""
        indices = sorted(indices, key=lambda k: (self.order[self.places[k]], self.rel[k]))
        places = {self.places[k] for k in indices} | set(where)
        return LeakageItem(category, tuple(sorted(places, key=self.order.__getitem__)),
                           tuple(self.rel[k] for k in indices), detail, cross)


def _hash_images(paths: List[str], progress: Optional[Callable[[str], None]]
                 ) -> Tuple[List[Optional[str]], np.ndarray]:
    """md5 (only of files whose size another file shares) and packed dhash of each image;
    hard links (one inode) are read once."""
    sizes = [osp.getsize(p) for p in paths]
    size_count: Dict[int, int] = {}
    for s in sizes:
        size_count[s] = size_count.get(s, 0) + 1
    cache: Dict[Tuple[int, int], Tuple[Optional[str], np.ndarray]] = {}
    md5s: List[Optional[str]] = []
    packed = np.zeros((len(paths), 32), np.uint8)
    step = max(1, len(paths) // 10)
    index = default_index()  # the hashes the pool exclusion reads too (mmssl_us.data.index)
    for k, path in enumerate(paths):
        st = os.stat(path)
        key = (st.st_dev, st.st_ino)
        if key not in cache:
            digest = index.md5(path) if size_count[sizes[k]] > 1 else None
            cache[key] = (digest, index.packed_dhash(path))
        md5s.append(cache[key][0])
        packed[k] = cache[key][1]
        if progress is not None and ((k + 1) % step == 0 or k + 1 == len(paths)):
            progress(f'[leakage] hashed {k + 1}/{len(paths)} images')
    index.save()
    return md5s, packed


def _near_pairs(packed: np.ndarray, near_bits: int) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Index pairs ``i < j`` whose hashes differ in at most ``near_bits`` bits, and the bits;
    blocks of rows against all rows (about 32 MB at a time), vectorised."""
    n = len(packed)
    words = np.ascontiguousarray(packed).view(np.uint64)  # n x 4
    block = max(1, (1 << 20) // max(n, 1))
    found_i, found_j, found_d = [], [], []
    for start in range(0, n, block):
        rows = words[start:start + block]
        bits = np.bitwise_count(rows[:, None, :] ^ words[None, :, :]).sum(-1, dtype=np.int64)
        ii, jj = np.nonzero(bits <= near_bits)
        ii = ii + start
        keep = jj > ii
        found_i.append(ii[keep])
        found_j.append(jj[keep])
        found_d.append(bits[ii[keep] - start, jj[keep]])
    if not found_i:
        empty = np.zeros(0, np.int64)
        return empty, empty, empty
    return np.concatenate(found_i), np.concatenate(found_j), np.concatenate(found_d)


def _components(n: int, pairs: Sequence[Tuple[int, int]]) -> List[List[int]]:
    """Connected groups (of two or more) of the graph on ``range(n)`` with edges ``pairs``."""
    parent = list(range(n))

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for a, b in pairs:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    groups: Dict[int, List[int]] = {}
    for k in range(n):
        groups.setdefault(find(k), []).append(k)
    return [g for g in groups.values() if len(g) > 1]


def find_leakage(data_root: str,
                 splits: Sequence[str] = SPLITS,
                 pool: Optional[str] = 'unlabelled',
                 near_bits: int = NEAR_DUPLICATE_BITS,
                 patient_rule: PatientRule = 'prefix',
                 split_patient_rule: PatientRule = 'prefix',
                 progress: Optional[Callable[[str], None]] = None) -> LeakageReport:
    """Find duplicates and shared patients within and across the splits and the pool.

    Every image is read once (md5 only where two files have one size, a difference hash
    always; hard links once); the hashes are compared all against all with numpy.

    Args:
        data_root (str): Dataset root in the knee layout.
        splits (Sequence[str]): Labelled splits, read from ``images/<split>/``; ``'train'`` is
            the one the model learns from, every other split is an evaluation split.
            Defaults to ('train', 'val', 'test').
        pool (str, optional): The pretraining pool folder, relative to ``data_root`` (or
            absolute); None: no pool. Defaults to 'unlabelled'.
        near_bits (int): Hashes differing in at most this many of 256 bits are near
            duplicates. Defaults to NEAR_DUPLICATE_BITS (24, as the pool exclusion).
        patient_rule (str | Callable): How pool file names carry a patient ('prefix',
            'stem', 'none' or a callable, see :func:`mmssl_us.data.splits.patient_id`).
            Defaults to 'prefix'.
        split_patient_rule (str | Callable): The same for the labelled splits.
            Defaults to 'prefix' (the documented layout).
        progress (Callable[[str], None], optional): Called with a progress line about every
            tenth of the images hashed. Defaults to None.

    Returns:
        LeakageReport: The findings; ``report.cross_split`` is empty when nothing leaks.

    Raises:
        FileNotFoundError: the data root, a split folder or the pool folder is missing
            (named).
        ValueError: bad arguments, or an image that cannot be decoded (named).
    """
    if isinstance(splits, str):
        splits = [splits]
    splits = tuple(splits)
    if not splits or len(set(splits)) != len(splits) or POOL in splits \
            or not all(isinstance(s, str) and s for s in splits):
        raise ValueError(f'splits must be distinct non-empty names other than {POOL!r}, '
                         f'got {splits!r}')
    near_bits = check_int('near_bits', near_bits, 0, 255)
    check_patient_rule(patient_rule)
    check_patient_rule(split_patient_rule)
    if not osp.isdir(data_root):
        raise FileNotFoundError(f'data root not found: {data_root}')
    files = _Files(data_root, splits + (POOL,))
    counts: Dict[str, int] = {}
    for split in splits:
        folder = osp.join(data_root, 'images', split)
        if not osp.isdir(folder):
            raise FileNotFoundError(
                f'split folder not found: {folder} (the layout is '
                f'<root>/images/{{{",".join(splits)}}}/<patient>_<frame>.png; name the splits '
                'the dataset has)')
        images, _ = scan_media(folder, IMAGE_SUFFIXES, ())
        for path in images:
            files.add(split, path)
        counts[split] = len(images)
    videos: List[str] = []
    pool_dir = None
    if pool is not None:
        pool_dir = pool if osp.isabs(pool) else osp.join(data_root, pool)
        if not osp.isdir(pool_dir):
            raise FileNotFoundError(f'pool folder not found: {pool_dir} (pass pool=None, or '
                                    '--pool none, to check the labelled splits only)')
        images, videos = scan_media(pool_dir, IMAGE_SUFFIXES, VIDEO_SUFFIXES)
        for path in images:
            files.add(POOL, path)
        counts[POOL] = len(images)
        counts['pool_videos'] = len(videos)
    n_images = len(files.paths)
    md5s, packed = _hash_images(files.paths, progress)
    for path in videos:
        files.add(POOL, path)
    items: List[LeakageItem] = []

    # exact duplicates: groups of one md5
    by_md5: Dict[str, List[int]] = {}
    for k, digest in enumerate(md5s):
        if digest is not None:
            by_md5.setdefault(digest, []).append(k)
    for digest, group in sorted(by_md5.items()):
        cross = _classify([files.places[k] for k in group]) if len(group) > 1 else None
        if cross is not None:
            items.append(files.item('exact', group, digest, cross))

    # near duplicates (not identical): cross pairs one by one, within ones as groups
    within_pairs: Dict[str, List[Tuple[int, int]]] = {}
    pair_bits: Dict[Tuple[int, int], int] = {}
    for i, j, d in zip(*_near_pairs(packed, near_bits)):
        i, j = int(i), int(j)
        if md5s[i] is not None and md5s[i] == md5s[j]:
            continue  # an exact duplicate, listed above
        cross = _classify([files.places[i], files.places[j]])
        if cross:
            items.append(files.item('near', (i, j), f'{int(d)} bits', True))
        elif cross is False:
            within_pairs.setdefault(files.places[i], []).append((i, j))
            pair_bits[i, j] = int(d)
    for place in sorted(within_pairs):
        groups = _components(n_images, within_pairs[place])
        group_of = {k: g for g, group in enumerate(groups) for k in group}
        spans = [[256, 0] for _ in groups]
        for i, j in within_pairs[place]:
            span = spans[group_of[i]]
            span[0], span[1] = min(span[0], pair_bits[i, j]), max(span[1], pair_bits[i, j])
        for group, (low, high) in zip(groups, spans):
            bits = f'{low}' if low == high else f'{low}-{high}'
            items.append(files.item('near', group, f'{len(group)} images, {bits} bits',
                                    False))

    # the same name in places that must not share one (videos included)
    by_stem: Dict[str, List[int]] = {}
    for k, path in enumerate(files.paths):
        by_stem.setdefault(osp.splitext(osp.basename(path))[0].casefold(), []).append(k)
    for stem, group in sorted(by_stem.items()):
        if len(group) > 1 and _classify(sorted({files.places[k] for k in group})):
            items.append(files.item('stem', group, stem, True))

    # patients of the labelled splits, shared ones, and pool files of evaluation patients
    owners: Dict[str, Dict[str, List[int]]] = {}
    written: Dict[str, str] = {}  # case-folded id -> as first written
    patients: Dict[str, int] = {}
    for split in splits:  # the one patient comparison (mmssl_us.data.splits.group_by_patient)
        members = [k for k in range(n_images) if files.places[k] == split]
        groups = group_by_patient([files.paths[k] for k in members], split_patient_rule)
        for folded, (pid, indices) in groups.items():
            written.setdefault(folded, pid)
            owners.setdefault(folded, {})[split] = [members[i] for i in indices]
        patients[split] = len(groups)
    evaluation: Dict[str, List[str]] = {}
    for pid, where in sorted(owners.items()):
        if len(where) > 1:
            items.append(files.item('patient', [k for g in where.values() for k in g],
                                    written[pid], True))
        eval_splits = sorted(s for s in where if s != 'train')
        if eval_splits:
            evaluation[pid] = eval_splits
    pool_hits: Dict[str, List[int]] = {}
    for k, place in enumerate(files.places):
        if place == POOL:
            pid = patient_id(files.paths[k], patient_rule)
            if pid and pid.casefold() in evaluation:
                pool_hits.setdefault(pid.casefold(), []).append(k)
    for pid, group in sorted(pool_hits.items()):
        items.append(files.item('pool_patient', group,
                                f'{written[pid]} (a {"/".join(evaluation[pid])} patient)', True,
                                where=evaluation[pid]))

    order = {c: n for n, c in enumerate(CATEGORIES)}
    items.sort(key=lambda it: (not it.cross, order[it.category],
                               [files.order[p] for p in it.where], it.files))
    return LeakageReport(data_root=data_root, splits=splits,
                         pool=None if pool_dir is None else pool,
                         near_bits=near_bits, patient_rule=_rule_name(patient_rule),
                         counts=counts, patients=patients, items=items)


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Arguments of ``python -m mmssl_us.data.leakage`` / ``tools/analysis/check_leakage.py``."""
    p = argparse.ArgumentParser(
        prog='check_leakage',
        description='Report exact and near duplicates and shared patients within and across '
                    'the splits (images/<split>) and the pretraining pool of a dataset root. '
                    'Exit status: 1 on cross-split leakage, 2 on bad input, 0 otherwise.')
    p.add_argument('data_root', help='dataset root in the knee layout (docs/CONTRACTS.md)')
    p.add_argument('--json', metavar='OUT', help='also write the full report as JSON here')
    p.add_argument('--near-bits', type=int, default=NEAR_DUPLICATE_BITS,
                   help='near-duplicate threshold in bits of 256 (default: %(default)s)')
    p.add_argument('--patient-rule', choices=PATIENT_RULES, default='prefix',
                   help='how pool file names carry a patient id (default: %(default)s)')
    p.add_argument('--splits', nargs='+', default=list(SPLITS),
                   help='labelled splits under images/ (default: train val test)')
    p.add_argument('--pool', default='unlabelled',
                   help="pool folder under the root, or 'none' (default: %(default)s)")
    p.add_argument('--max-files', type=int, default=5,
                   help='findings and files listed per category (default: %(default)s)')
    p.add_argument('--quiet', action='store_true', help='no progress lines')
    return p.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the check from the command line; returns the exit status (0, 1 or 2)."""
    args = parse_args(argv)

    def progress(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    try:
        report = find_leakage(args.data_root, splits=args.splits,
                              pool=None if args.pool.lower() in ('', 'none') else args.pool,
                              near_bits=args.near_bits, patient_rule=args.patient_rule,
                              progress=None if args.quiet else progress)
        text = report.summary(max_files=args.max_files)
    except (FileNotFoundError, ValueError) as exc:
        print(f'error: {exc}', file=sys.stderr)
        return 2
    print(text)
    if args.json:
        atomic_write(args.json, json.dumps(report.to_dict(), indent=1) + '\n')
        print(f'report written to {args.json}')
    return 1 if report.cross_split else 0


if __name__ == '__main__':
    from ..cli import run_main
    sys.exit(run_main(main))
