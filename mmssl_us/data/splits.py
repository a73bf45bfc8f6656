"""Patient-level train / val / test splits, the same on every machine.

All images of a patient go to one split, so a model is never tested on a patient it was trained
on. One implementation serves the dataset converters (CAMUS, HC18) and the synthetic generator:

- *who*: every patient id gets the key ``sha256(f'{salt}{seed}:{patient_id}')`` and the ids are
  ranked by it (:func:`patient_rank`). The order depends only on the seed and the ids, never on
  Python's salted ``hash()``, a global random generator or the order the ids come in. The label
  fractions (:mod:`mmssl_us.data.fractions`) use the same ranking without a salt; splits use the
  salt ``'split:'``, so a split and a label fraction drawn with one seed are independent.
- *how many*: the counts follow the fractions by largest remainder (:func:`split_counts`).
- *where*: the lowest-ranked patients go to test, the next to val, the rest to train, so the
  test patients stay the same when only the val fraction changes.

The patient id of a file (:func:`patient_id`) is read from its name by one rule, used by the
segmentation datasets, the split-overlap check, the pretraining-pool exclusion and the leakage
report: by default the file stem up to the first ``_`` (``P07_0003.png``, ``P07_clip2.mp4`` and
``P07.avi`` all belong to ``P07``; HC18's ``010_HC`` and ``010_2HC`` to ``010``).
Two ids are one patient when they are equal case-folded (``P07`` and ``p07``: file systems and
exports differ in case, a patient does not): :func:`group_by_patient` and
:func:`shared_patients` are the one comparison of the split-overlap checks (the segmentation
datasets at build, a folder study's view) and the leakage report.
"""
import hashlib
import math
import operator
import os.path as osp
from typing import Callable, Dict, List, Mapping, NamedTuple, Optional, Sequence, Tuple, Union

__all__ = ['SPLITS', 'SPLIT_SALT', 'PATIENT_RULES', 'patient_id', 'check_patient_rule',
           'patient_rank', 'split_counts', 'patient_splits', 'split_patients',
           'group_by_patient', 'shared_patients', 'SharedPatients']

SPLITS = ('train', 'val', 'test')
SPLIT_SALT = 'split:'

#: How a file name carries its patient: 'prefix' (the stem up to the first ``_``, the
#: documented rule), 'stem' (the whole stem is the id) or 'none' (the name carries no patient).
PATIENT_RULES = ('prefix', 'stem', 'none')
PatientRule = Union[str, Callable[[str], Optional[str]]]


def check_patient_rule(rule: PatientRule) -> PatientRule:
    """Return ``rule`` if it is one of :data:`PATIENT_RULES` or a callable, else raise.

    Args:
        rule (str | Callable[[str], str | None]): A rule name, or a function of a file path
            that returns the patient id (None for none).

    Raises:
        ValueError: an unknown rule name, naming the known ones.
    """
    if callable(rule) or rule in PATIENT_RULES:
        return rule
    raise ValueError(f'patient_rule must be one of {PATIENT_RULES} or a callable, got {rule!r}')


def patient_id(path: str, rule: PatientRule = 'prefix') -> Optional[str]:
    """Patient id of a file, read from its name.

    Args:
        path (str): A file path or name; only the file name without its suffix (the stem)
            is read.
        rule (str | Callable[[str], str | None]): ``'prefix'``: the stem up to the first
            ``_`` (the whole stem when it has none); ``'stem'``: the whole stem; ``'none'``:
            no patient; a callable: called with ``path``. Defaults to 'prefix'.

    Returns:
        str | None: The id as written (not case-folded), or None when the name carries none
        (rule 'none', or a stem starting with ``_``).

    Raises:
        ValueError: an unknown rule.
    """
    check_patient_rule(rule)
    if callable(rule):
        pid = rule(path)
        return pid or None
    if rule == 'none':
        return None
    stem = osp.splitext(osp.basename(path))[0]
    pid = stem if rule == 'stem' else stem.split('_', 1)[0]
    return pid or None


def _check_seed(seed: int) -> int:
    try:
        if isinstance(seed, bool):
            raise TypeError
        return operator.index(seed)  # int or numpy integer; not a float, str or bool
    except TypeError:
        raise ValueError(f'seed must be an int, got {seed!r}') from None


def patient_rank(patient_ids: Sequence[str], seed: int, salt: str = '') -> List[str]:
    """Order distinct patient ids by their seeded sha256 key (ties broken by the id).

    Args:
        patient_ids (Sequence[str]): Patient ids; duplicates are merged.
        seed (int): Seed of the draw.
        salt (str): Prefix of the hashed text, to keep unrelated draws (a split and a label
            fraction with the same seed) independent. Defaults to ''.

    Returns:
        list[str]: The distinct ids, lowest key first.
    """
    seed = _check_seed(seed)

    def key(pid: str) -> str:
        return hashlib.sha256(f'{salt}{seed}:{pid}'.encode('utf-8')).hexdigest()

    return sorted(set(patient_ids), key=lambda pid: (key(pid), pid))


def split_counts(n: int, fractions: Sequence[float]) -> List[int]:
    """Number of patients per split, by largest remainder.

    Every split with a positive fraction gets at least one patient (taken from the largest
    split); with fewer patients than such splits, train is served first, then val, then test.
    Ties of the remainders go to the earlier split.

    Args:
        n (int): Number of patients (>= 0).
        fractions (Sequence[float]): Train, val and test fractions (>= 0, summing to 1).

    Returns:
        list[int]: Three counts summing to ``n``.
    """
    fractions = [float(f) for f in fractions]
    if len(fractions) != 3 or any(not math.isfinite(f) or f < 0 for f in fractions):
        raise ValueError(f'split must be three non-negative fractions, got {fractions!r}')
    if abs(sum(fractions) - 1.0) > 1e-6:
        raise ValueError(f'split fractions must sum to 1, got {fractions!r} '
                         f'(sum {sum(fractions)!r})')
    if n < 0:
        raise ValueError(f'n must be >= 0, got {n!r}')
    raw = [n * f for f in fractions]
    counts = [math.floor(r) for r in raw]
    order = sorted(range(3), key=lambda k: (-(raw[k] - counts[k]), k))
    for k in order[:n - sum(counts)]:
        counts[k] += 1
    positive = [k for k in range(3) if fractions[k] > 0]
    if n < len(positive):  # too few patients: one each, train first
        return [int(k in positive[:n]) for k in range(3)]
    for k in positive:
        if counts[k] == 0:
            counts[max(range(3), key=lambda j: counts[j])] -= 1
            counts[k] = 1
    return counts


def patient_splits(ids: Sequence[str], fractions: Sequence[float],
                   seed: int) -> Dict[str, List[str]]:
    """Assign patients to train, val and test.

    Args:
        ids (Sequence[str]): Patient ids (unique).
        fractions (Sequence[float]): Train, val and test fractions (see :func:`split_counts`).
        seed (int): Seed of the ranking (:func:`patient_rank` with the salt ``'split:'``).

    Returns:
        dict[str, list[str]]: Sorted patient ids per split name.
    """
    ids = list(ids)
    if len(set(ids)) != len(ids):
        raise ValueError(f'patient ids must be unique, got {len(ids) - len(set(ids))} repeats')
    n_train, n_val, n_test = split_counts(len(ids), fractions)
    ranked = patient_rank(ids, seed, salt=SPLIT_SALT)
    return dict(train=sorted(ranked[n_test + n_val:]),
                val=sorted(ranked[n_test:n_test + n_val]), test=sorted(ranked[:n_test]))


def split_patients(patient_ids: Sequence[str], seed: int, val: float,
                   test: float) -> Dict[str, str]:
    """Patient id -> 'train', 'val' or 'test', given the val and test fractions (converters).

    The assignment is :func:`patient_splits` with the fractions ``(1 - val - test, val,
    test)``. Unlike it, duplicate ids are merged and a patient count too small to give every
    requested split (train always, val and test when positive) a patient is refused.

    Args:
        patient_ids (Sequence[str]): Patient ids; duplicates are merged.
        seed (int): Seed of the split.
        val (float): Fraction of patients for validation, in [0, 1).
        test (float): Fraction of patients for testing, in [0, 1).

    Returns:
        dict[str, str]: Patient id to split name.
    """
    for name, value in (('val', val), ('test', test)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) \
                or not 0.0 <= value < 1.0:  # also rejects NaN
            raise ValueError(f'{name} fraction must be in [0, 1), got {value!r}')
    if val + test >= 1.0:
        raise ValueError(f'val + test fractions must leave patients for training, got '
                         f'val={val} test={test}')
    ids = sorted(set(patient_ids))
    if not ids:
        raise ValueError('cannot split an empty list of patients')
    splits = patient_splits(ids, (1.0 - val - test, val, test), seed)
    if not all(splits[name] for name, frac in zip(SPLITS, (1.0, val, test)) if frac > 0):
        raise ValueError(f'{len(ids)} patients are too few for val={val} and test={test}: '
                         'every split needs at least one patient')
    return {pid: name for name, pids in splits.items() for pid in pids}


def group_by_patient(paths: Sequence[str], rule: PatientRule = 'prefix'
                     ) -> Dict[str, Tuple[str, List[int]]]:
    """The files of each patient: case-folded id -> (the id as first written, indices into
    ``paths``). Files whose name carries no patient (:func:`patient_id` None) are left out."""
    out: Dict[str, Tuple[str, List[int]]] = {}
    for k, path in enumerate(paths):
        pid = patient_id(path, rule)
        if pid:
            out.setdefault(pid.casefold(), (pid, []))[1].append(k)
    return out


class SharedPatients(NamedTuple):
    """Patients two splits share: the ids (as first written in ``first``) and, for the first
    of them, one file of each split."""
    first: str
    second: str
    ids: List[str]
    example: Tuple[str, str]


def shared_patients(paths_by_split: Mapping[str, Sequence[str]],
                    rule: PatientRule = 'prefix') -> List[SharedPatients]:
    """Every pair of splits (in the mapping's order) that shares a patient, by the one rule
    (:func:`patient_id`, ids compared case-folded)."""
    names = list(paths_by_split)
    groups = {s: group_by_patient(list(paths_by_split[s]), rule) for s in names}
    out: List[SharedPatients] = []
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            common = sorted(set(groups[a]) & set(groups[b]))
            if common:
                first = common[0]
                example = (paths_by_split[a][groups[a][first][1][0]],
                           paths_by_split[b][groups[b][first][1][0]])
                out.append(SharedPatients(a, b, [groups[a][c][0] for c in common], example))
    return out
