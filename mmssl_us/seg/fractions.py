"""Patient-level label fractions and splits, reproducible on any platform.

Few-label experiments train on a fraction of the labelled training split. Images of one patient
are correlated, so the fraction is drawn over patients, not images: a patient is either fully in
the labelled subset or not at all.

The draw must give the same subset on every machine and Python version, so it never uses
Python's ``hash()`` (salted per process) or a global random generator. Instead every patient id
gets the key ``sha256(f'{seed}:{patient_id}')`` and the ``k`` patients with the lowest keys are
taken. Because the order of the keys depends only on the seed, the subset for a smaller fraction
is contained in the subset for a larger one with the same seed (1% is inside 5% is inside 10%),
which keeps a label-efficiency curve free of subset noise between its points.
"""
from __future__ import annotations

import hashlib
import math
from typing import Callable, Dict, List, Sequence, Tuple

__all__ = ['patient_rank', 'num_selected', 'check_fraction', 'select_fraction',
           'split_patients']


def _hash_key(seed: int, patient_id: str, salt: str = '') -> str:
    return hashlib.sha256(f'{salt}{seed}:{patient_id}'.encode('utf-8')).hexdigest()


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
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f'seed must be an int, got {seed!r}')
    unique = sorted(set(patient_ids))
    return sorted(unique, key=lambda pid: (_hash_key(seed, pid, salt), pid))


def num_selected(fraction: float, n_patients: int) -> int:
    """Number of patients a fraction selects: ``max(1, round_half_up(fraction * n))``.

    Args:
        fraction (float): Fraction in (0, 1].
        n_patients (int): Number of distinct patients (> 0).

    Returns:
        int: Between 1 and ``n_patients``.
    """
    check_fraction(fraction)
    if n_patients <= 0:
        raise ValueError(f'label fraction {fraction} selects nothing: there are no patients '
                         'in the split')
    # half-up rounding, the same everywhere (Python's round() rounds half to even)
    return min(n_patients, max(1, int(math.floor(fraction * n_patients + 0.5))))


def check_fraction(fraction: float) -> None:
    """Raise ``ValueError`` naming ``fraction`` unless it is a number in (0, 1]."""
    if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) \
            or not (0.0 < float(fraction) <= 1.0):  # also rejects NaN
        raise ValueError(f'label fraction must be in (0, 1], got {fraction!r}')


def select_fraction(items: Sequence[str], fraction: float, seed: int,
                    patient_of: Callable[[str], str]) -> List[str]:
    """Select the items of a seeded fraction of the patients.

    Args:
        items (Sequence[str]): Items (usually image paths) of one split.
        fraction (float): Fraction of the patients to keep, in (0, 1].
        seed (int): Seed of the draw; the same seed gives nested subsets for growing fractions.
        patient_of (Callable[[str], str]): Maps an item to its patient id.

    Returns:
        list[str]: The selected items, sorted; at least one.

    Raises:
        ValueError: ``fraction`` outside (0, 1], or nothing to select from.
    """
    check_fraction(fraction)
    if len(items) == 0:
        raise ValueError(f'label fraction {fraction} selects nothing: the split is empty')
    owners: Dict[str, str] = {}
    for item in items:
        pid = patient_of(item)
        if not isinstance(pid, str) or pid == '':
            raise ValueError(f'no patient id for {item!r} (got {pid!r})')
        owners[item] = pid
    ranked = patient_rank(list(owners.values()), seed)
    chosen = set(ranked[:num_selected(fraction, len(ranked))])
    return sorted(item for item in items if owners[item] in chosen)


def split_patients(patient_ids: Sequence[str], seed: int, val: float,
                   test: float) -> Dict[str, str]:
    """Assign every patient to 'train', 'val' or 'test' by the same seeded ranking.

    Patients are ranked as in :func:`select_fraction` but with the salt ``'split:'`` (so a split
    and a label fraction drawn with the same seed are independent). The lowest-ranked
    ``round(test * n)`` patients go to test, the next ``round(val * n)`` to val and the rest to
    train (val/test get at least one patient each when their fraction is positive).

    Args:
        patient_ids (Sequence[str]): Patient ids; duplicates are merged.
        seed (int): Seed of the split.
        val (float): Fraction of patients for validation, in [0, 1).
        test (float): Fraction of patients for testing, in [0, 1).

    Returns:
        dict[str, str]: Patient id to split name.
    """
    for name, value in (('val', val), ('test', test)):
        if not 0.0 <= value < 1.0:
            raise ValueError(f'{name} fraction must be in [0, 1), got {value!r}')
    if val + test >= 1.0:
        raise ValueError(f'val + test fractions must leave patients for training, got '
                         f'val={val} test={test}')
    ranked = patient_rank(patient_ids, seed, salt='split:')
    n = len(ranked)
    if n == 0:
        raise ValueError('cannot split an empty list of patients')

    def count(frac: float) -> int:
        return 0 if frac == 0 else max(1, int(math.floor(frac * n + 0.5)))

    n_test, n_val = count(test), count(val)
    if n_test + n_val >= n:
        raise ValueError(f'{n} patients are too few for val={val} and test={test}: '
                         'no patient would be left for training')
    bounds: Tuple[Tuple[str, int], ...] = (('test', n_test), ('val', n_test + n_val))
    out = {}
    for i, pid in enumerate(ranked):
        out[pid] = next((name for name, end in bounds if i < end), 'train')
    return out
