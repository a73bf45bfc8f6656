"""Patient-level label fractions, reproducible on any platform.

Few-label experiments train on a fraction of the labelled training split. Images of one patient
are correlated, so the fraction is drawn over patients, not images: a patient is either fully in
the labelled subset or not at all.

The ``k`` patients taken are the first ``k`` of the seeded sha256 ranking
(:func:`mmssl_us.data.splits.patient_rank`, no salt), so the draw is the same on every machine
and Python version. Because the order of the keys depends only on the seed, the subset for a
smaller fraction is contained in the subset for a larger one with the same seed (1% is inside 5%
is inside 10%), which keeps a label-efficiency curve free of subset noise between its points.
"""
import math
from typing import Callable, Dict, List, Sequence

from .splits import patient_rank

__all__ = ['num_selected', 'check_fraction', 'select_fraction']


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
