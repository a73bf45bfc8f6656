"""Patient-level train / val / test splits.

All frames of a patient go to one split, so a model is never tested on a patient it was
trained on. The counts follow the fractions by largest remainder; every split with a positive
fraction gets at least one patient (with fewer patients than such splits: train first, then
val, then test); which patient goes where is a seeded permutation.
"""
import math
from typing import Dict, List, Sequence

import numpy as np

SPLITS = ('train', 'val', 'test')
# Tag mixed into the dataset seed for the split permutation (patients use their index).
SPLIT_STREAM = 0x5317


def split_counts(n: int, fractions: Sequence[float]) -> List[int]:
    """Number of patients per split.

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
        seed (int): Dataset seed; the permutation uses ``default_rng([seed, SPLIT_STREAM])``.

    Returns:
        dict[str, list[str]]: Sorted patient ids per split name.
    """
    ids = list(ids)
    if len(set(ids)) != len(ids):
        raise ValueError(f'patient ids must be unique, got {len(ids) - len(set(ids))} repeats')
    counts = split_counts(len(ids), fractions)
    order = np.random.default_rng([int(seed), SPLIT_STREAM]).permutation(len(ids))
    out, start = {}, 0
    for name, count in zip(SPLITS, counts):
        out[name] = sorted(ids[i] for i in order[start:start + count])
        start += count
    return out
