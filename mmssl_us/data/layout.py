"""Lay a user's folder of images and masks out as a study's data root (numpy-free, host-free).

A folder study reads the user's data where it is and never writes into it. What the study
trains on is a *view* in its work dir, ``<work_dir>/data``, in the knee layout of
docs/CONTRACTS.md, made of hard links (copies where links are impossible)::

    SRC/images/train/...   SRC/masks/train/...     required
    SRC/images/test/...    SRC/masks/test/...      required
    SRC/images/val/...     SRC/masks/val/...       optional: carved from train when absent
    SRC/unlabelled/...                             optional: linked into the pool as is

* Images and masks pair by relative path: ``images/train/a/P1_0.jpg`` takes
  ``masks/train/a/P1_0<mask_suffix>`` (``.png`` by default; ``'_mask.png'`` for sets that
  name masks so). Files in sub-folders are named ``<sub>__<file>`` in the view, so a folder per
  patient keeps the patient in front of the first ``_``.
* The patient of an image is its (view) file name up to the first ``_``
  (:func:`mmssl_us.data.splits.patient_id`; a name without one is its own patient). Without
  ``val/``, a fraction ``val`` of the training patients (seeded,
  :func:`mmssl_us.data.splits.split_patients`) becomes the val split.
* The view's listing and settings are saved in ``<view>/layout.json``. A second call with the
  same source and settings reuses the view; one whose source files or settings changed stops
  and says what changed (the finished runs of a study were made on the old view).
"""
import hashlib
import json
import os
import re
import os.path as osp
import shutil
from typing import Callable, Dict, List, Optional, Tuple

from ..fileio import atomic_write, link_or_copy
from ..records import compare_record, describe, write_record
from ..validate import check_float, check_int
from .media import IMAGE_SUFFIXES, VIDEO_SUFFIXES, check_unread_files, scan_media
from .splits import patient_id as _patient_id
from .splits import shared_patients, split_patients

__all__ = ['prepare_folder', 'to_source', 'LAYOUT_FILE', 'SOURCES_FILE']

LAYOUT_FILE = 'layout.json'
#: view path (relative to the view) -> the user's own file, so messages can name the latter
SOURCES_FILE = 'sources.json'
_PATH = re.compile(r'/[^\s\'",;:()\[\]]+')
_SPLITS = ('train', 'val', 'test')


def patient_id(name: str) -> str:
    """The patient of a view file name (the name itself when it carries no id)."""
    return _patient_id(name) or name


def check_patient_pattern(pattern: Optional[str]) -> Optional['re.Pattern']:
    """Compile ``folder.patient_pattern``: a regular expression with exactly one group, the
    patient id, searched in the file stem (e.g. ``r'^(S\d+)-'`` for ``S0001-000.png``)."""
    if pattern is None:
        return None
    if not isinstance(pattern, str) or not pattern:
        raise ValueError(f'folder.patient_pattern must be a regular expression string, got '
                         f'{pattern!r}')
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        raise ValueError(f'folder.patient_pattern {pattern!r} is no regular expression: '
                         f'{exc}') from None
    if compiled.groups != 1:
        raise ValueError(f'folder.patient_pattern {pattern!r} has {compiled.groups} groups: '
                         'it needs exactly one, the patient id, e.g. "^(S[0-9]+)-"')
    return compiled


def _apply_patients(pairs: Dict[str, List[Tuple[str, str, str]]],
                    pattern: Optional['re.Pattern'], src: str) -> None:
    """Give every view name its patient in front of the first ``_`` (the rule every reader of
    the view uses), from ``pattern``; without one, check the default rule fits the names
    (most names carrying no ``_`` means each frame would be a patient of its own; one image
    per patient named ``<patient>_<frame>``, or a folder per patient, is fine)."""
    items = [(split, k, item) for split, group in pairs.items() for k, item in enumerate(group)]
    if pattern is None:
        stems = [osp.splitext(name)[0] for _, _, (name, _, _) in items]
        without = [s for s in stems if '_' not in s.lstrip('_')]
        n_patients = len({patient_id(name) for _, _, (name, _, _) in items})
        # most names carry no separator: their whole stem is the patient, one per frame
        if len(items) > 1 and 2 * len(without) > len(items):
            example = next((p for _, _, (n, p, _) in items
                            if '_' not in osp.splitext(n)[0]), items[0][2][1])
            raise ValueError(
                f'the patient rule "file name up to the first _" gives {n_patients} patients to '
                f'{len(items)} images of {src} ({len(without)} names have no "_", e.g. '
                f'{example}): frames of one patient would land in train and val alike; set '
                'study.folder.patient_pattern to a regular expression whose one group is the '
                'patient, e.g. --cfg-options "study.folder.patient_pattern=^(S[0-9]+)-" for '
                "S0001-000.png ('^(.+)$' if every image is its own patient)")
        return
    unmatched = []
    for split, k, (name, img, mask) in items:
        match = pattern.search(osp.splitext(name)[0])
        pid = match.group(1) if match else None
        if not pid:
            unmatched.append(img)
            continue
        pid = pid.replace('_', '-').replace(os.sep, '-')
        pairs[split][k] = (f'{pid}_{name}', img, mask)
    if unmatched:
        raise ValueError(f'folder.patient_pattern {pattern.pattern!r} finds no patient in '
                         f'{len(unmatched)} of {len(items)} image names, e.g. {unmatched[0]}: '
                         'fix the pattern (its one group is the patient id, searched in the '
                         'file stem)')


def _view_name(rel: str) -> str:
    """``a/b/P1_0.png`` -> ``a__b__P1_0.png``."""
    return '__'.join(rel.replace('\\', '/').split('/'))


def _pairs(src: str, split: str, mask_suffix: str,
           log: Callable[[str], None] = print) -> List[Tuple[str, str, str]]:
    """(view name, image path, mask path) of every image of ``src/images/<split>``."""
    img_dir, mask_dir = osp.join(src, 'images', split), osp.join(src, 'masks', split)
    for folder in (img_dir, mask_dir):
        if not osp.isdir(folder):
            raise FileNotFoundError(f'{folder} not found: a folder study needs images/ and '
                                    'masks/ with train/ and test/ (val/ optional) under '
                                    f'{src}')
    note = check_unread_files(img_dir, IMAGE_SUFFIXES)  # refuses medical formats
    if note:
        log(f'[study] {note}')
    images, _ = scan_media(img_dir, IMAGE_SUFFIXES, ())
    if not images:
        raise FileNotFoundError(f'{img_dir} holds no image ({", ".join(IMAGE_SUFFIXES)})')
    out, missing = [], []
    for path in images:
        rel = osp.relpath(path, img_dir)
        mask = osp.join(mask_dir, osp.splitext(rel)[0] + mask_suffix)
        if not osp.isfile(mask):
            missing.append(mask)
        out.append((_view_name(rel), path, mask))
    if missing:
        raise FileNotFoundError(
            f'{len(missing)} of {len(images)} images of {img_dir} have no mask, e.g. '
            f'{missing[:3]} (masks pair with images by relative path and stem, plus '
            f'mask_suffix={mask_suffix!r})')
    return out


def _one_suffix(pairs: Dict[str, List[Tuple[str, str, str]]]) -> str:
    """The one image suffix of the dataset (mmseg datasets list files by one suffix)."""
    found: Dict[str, str] = {}
    for items in pairs.values():
        for name, path, _ in items:
            found.setdefault(osp.splitext(name)[1], path)
    if len(found) > 1:
        raise ValueError('the images have several suffixes ('
                         + ', '.join(f'{s!r}, e.g. {p}' for s, p in sorted(found.items()))
                         + '): convert them to one format first (mmseg lists a split by one '
                         'suffix)')
    return next(iter(found))


def _carve_val(train: List[Tuple[str, str, str]], val: float, seed: int,
               src: str) -> Tuple[list, list]:
    patients = sorted({patient_id(name) for name, _, _ in train})
    if len(patients) < 2:
        raise ValueError(f'{src}/images/train holds {len(patients)} patient(s) by the rule '
                         '"file name up to the first _": a val split cannot be carved from it '
                         'by patient; add images/val and masks/val')
    assign = split_patients(patients, seed=seed, val=val, test=0.0)
    if not any(s == 'val' for s in assign.values()):
        raise ValueError(f'val={val} of {len(patients)} training patients is no patient: '
                         'raise folder.val or add images/val')
    keep = [p for p in train if assign[patient_id(p[0])] == 'train']
    carved = [p for p in train if assign[patient_id(p[0])] == 'val']
    return keep, carved


def _listing_digest(pairs: Dict[str, List[Tuple[str, str, str]]]) -> str:
    h = hashlib.sha256()
    for split in sorted(pairs):
        for name, img, mask in pairs[split]:
            for path in (img, mask):
                st = os.stat(path)
                h.update(f'{split}|{name}|{path}|{st.st_size}|{int(st.st_mtime)}\n'.encode())
    return h.hexdigest()


def prepare_folder(src: str, dst: str, val: float = 0.15, seed: int = 0,
                   mask_suffix: str = '.png', patient_pattern: Optional[str] = None,
                   log: Optional[Callable[[str], None]] = print) -> Dict:
    """Make (or reuse) the study view ``dst`` of the folder dataset ``src`` (see module docs).

    Args:
        src (str): The user's dataset folder (never written to).
        dst (str): The view to create, e.g. ``<work_dir>/data``.
        val (float): Fraction of the training patients carved into val when ``src`` has no
            ``images/val``. Defaults to 0.15.
        seed (int): Seed of that carving. Defaults to 0.
        mask_suffix (str): What follows a mask's stem. Defaults to '.png'.
        patient_pattern (str, optional): A regular expression with one group, the patient id,
            searched in each (view) file stem; the view then names each file
            ``<patient>_<name>`` so that every reader of the view finds the patient by the
            default rule. Without it the default rule (up to the first ``_``) must fit: when
            it gives every image its own patient, or most names carry no ``_``, the call stops
            and asks for the pattern (``'^(.+)$'`` says every image is its own patient).
            Defaults to None.
        log (Callable, optional): Printer. Defaults to print.

    Returns:
        dict: The layout record: ``img_suffix``, ``counts`` (images per split), ``patients``
        (per split), ``val_carved`` (bool), ``unlabelled`` (the linked folder or None).

    Raises:
        FileNotFoundError: a required folder is missing or an image has no mask.
        ValueError: a bad setting, mixed image suffixes, too few patients to carve val, a
            patient in two splits, or a view made from other files or settings.
    """
    log = log or (lambda _msg: None)
    check_float('folder.val', val, low=0.0, high=1.0, low_open=True, high_open=True)
    seed = check_int('folder.seed', seed)
    if not isinstance(mask_suffix, str) or not mask_suffix:
        raise ValueError(f'folder.mask_suffix must be a non-empty string, got {mask_suffix!r}')
    pattern = check_patient_pattern(patient_pattern)
    src = osp.abspath(src)
    if not osp.isdir(src):
        raise FileNotFoundError(f'study.data_root {src} does not exist')
    if osp.abspath(dst) == src or osp.abspath(dst).startswith(src + os.sep):
        raise ValueError(f'the study view {dst} must not be inside the data folder {src}')
    pairs = {s: _pairs(src, s, mask_suffix, log) for s in ('train', 'test')}
    has_val = osp.isdir(osp.join(src, 'images', 'val'))
    if has_val:
        pairs['val'] = _pairs(src, 'val', mask_suffix, log)
    img_suffix = _one_suffix(pairs)
    settings = dict(source=src, val=None if has_val else val, seed=None if has_val else seed,
                    mask_suffix=mask_suffix, digest=_listing_digest(pairs))
    if pattern is not None:
        settings['patient_pattern'] = patient_pattern
    _apply_patients(pairs, pattern, src)
    if not has_val:
        pairs['train'], pairs['val'] = _carve_val(pairs['train'], val, seed, src)
    patients = {s: sorted({patient_id(n) for n, _, _ in items}) for s, items in pairs.items()}
    names = {s: [n for n, _, _ in pairs[s]] for s in ('train', 'val', 'test')}
    for shared in shared_patients(names, patient_id):  # the one rule: ids case-folded
        raise ValueError(f'{len(shared.ids)} patient(s) are in both {shared.first} and '
                         f'{shared.second} of {src}, e.g. {shared.ids[:5]} (patient = file '
                         'name up to the first "_"): move each patient\'s images into one '
                         'split')
    unlabelled = osp.join(src, 'unlabelled')
    unlabelled = unlabelled if osp.isdir(unlabelled) else None
    if unlabelled:
        note = check_unread_files(unlabelled, IMAGE_SUFFIXES + VIDEO_SUFFIXES)
        if note:
            log(f'[study] {note}')
    record = dict(settings, img_suffix=img_suffix, val_carved=not has_val,
                  counts={s: len(v) for s, v in pairs.items()},
                  patients={s: len(v) for s, v in patients.items()},
                  val_patients=patients['val'], unlabelled=unlabelled)
    record_path = osp.join(dst, LAYOUT_FILE)
    diff = compare_record(record_path, record)
    if diff == []:
        if not osp.isfile(osp.join(dst, SOURCES_FILE)):  # a view made before the file
            _write_sources(dst, pairs)
        log(f'[study] data view {dst}: reused ({_describe(record)})')
        return record
    if diff:
        raise ValueError(f'the study view {dst} was made from other files or settings '
                         f'(changed: {describe(diff)}); its runs do not describe the data '
                         f'now in {src}: use a new work dir (--work-dir)')
    for split in _SPLITS:
        for kind in ('images', 'masks'):
            shutil.rmtree(osp.join(dst, kind, split), ignore_errors=True)
    for split, items in pairs.items():
        for name, img, mask in items:
            link_or_copy(img, osp.join(dst, 'images', split, name))
            link_or_copy(mask, osp.join(dst, 'masks', split, osp.splitext(name)[0] + '.png'))
    pool = osp.join(dst, 'unlabelled')
    os.makedirs(pool, exist_ok=True)
    own = osp.join(pool, 'own')
    if osp.lexists(own):
        os.unlink(own)
    if unlabelled:
        os.symlink(unlabelled, own, target_is_directory=True)  # scanned with links followed
    _write_sources(dst, pairs)
    write_record(record_path, record)
    log(f'[study] data view {dst}: {_describe(record)}')
    return record


def _write_sources(dst: str, pairs: Dict[str, List[Tuple[str, str, str]]]) -> None:
    sources = {}
    for split, items in pairs.items():
        for name, img, mask in items:
            sources[f'images/{split}/{name}'] = img
            sources[f'masks/{split}/{osp.splitext(name)[0]}.png'] = mask
    atomic_write(osp.join(dst, SOURCES_FILE), json.dumps(sources, indent=0, sort_keys=True))


def to_source(text: str) -> str:
    """``text`` with every path into a folder study's view (``<work_dir>/data/images/...`` or
    ``.../masks/...``) replaced by the user's own file it links to (``SOURCES_FILE``), so a
    message names the file the user can open and fix (a ``.jpg`` mask as ``.jpg``)."""
    views: Dict[str, Optional[Dict[str, str]]] = {}

    def replace(match: 're.Match') -> str:
        path = match.group(0)
        parts = path.split('/')
        for k in range(len(parts) - 1, 0, -1):
            if parts[k] not in ('images', 'masks'):
                continue
            root = '/'.join(parts[:k]) or '/'
            if root not in views:
                try:
                    with open(osp.join(root, SOURCES_FILE), encoding='utf-8') as f:
                        views[root] = json.load(f)
                except (OSError, ValueError):
                    views[root] = None
            if views[root]:
                return views[root].get('/'.join(parts[k:]), path)
        return path

    return _PATH.sub(replace, text)


def _describe(record: Dict) -> str:
    counts = ', '.join(f'{s} {record["counts"][s]} images / {record["patients"][s]} patients'
                       for s in _SPLITS)
    carved = (f'; val carved from train (val={record["val"]}, seed {record["seed"]})'
              if record['val_carved'] else '')
    own = f'; unlabelled: {record["unlabelled"]}' if record['unlabelled'] else ''
    return counts + carved + own
