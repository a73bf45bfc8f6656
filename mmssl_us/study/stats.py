"""Statistics of the label-efficiency study: cell summaries, paired differences, convergence.

A *row* is one finished run as read by :func:`mmssl_us.study.results.read_results`: a mapping
with at least ``init`` (str), ``fraction`` (float) and ``seed`` (int); metrics are floats or
``None`` when missing, and ``curve`` is a list of ``[iteration, mIoU]`` pairs. Where a statistic
cannot be computed honestly (too few runs, zero spread), the value is ``None`` and a ``note``
says why; no number is ever filled in.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np
from scipy import stats as sps

Row = Mapping[str, object]

# With n non-zero differences the smallest two-sided exact Wilcoxon p is 2 / 2**n: 0.0625 for
# n = 5, so below 6 pairs the test can never reject at the 5% level and is not reported.
WILCOXON_MIN_N = 6


@dataclass
class Summary:
    """Mean, sample standard deviation (ddof=1) and count of one value per group."""
    init: str
    fraction: float
    n: int
    mean: Optional[float]
    std: Optional[float]
    note: str = ''


@dataclass
class PairedDiff:
    """``init - baseline`` over runs matched on (fraction, seed)."""
    init: str
    baseline: str
    fraction: float
    n: int
    mean: Optional[float]
    std: Optional[float]
    ci_low: Optional[float]
    ci_high: Optional[float]
    p_ttest: Optional[float]
    p_wilcoxon: Optional[float]
    seeds: Tuple[int, ...] = ()
    note: str = ''


def _key(row: Row) -> Tuple[str, float, int]:
    return str(row['init']), float(row['fraction']), int(row['seed'])


def check_unique(rows: Sequence[Row]) -> None:
    """Raise ValueError naming the first (init, fraction, seed) that appears twice."""
    seen = set()
    for row in rows:
        key = _key(row)
        if key in seen:
            raise ValueError(f'duplicate run (init, fraction, seed) = {key}: a run was '
                             'recorded twice; remove one row from results.csv')
        seen.add(key)


def summarise(values: Sequence[float], init: str = '', fraction: float = float('nan')) -> Summary:
    """Mean, std (ddof=1) and n of ``values``; std is None with a note when n < 2.

    Args:
        values (Sequence[float]): One value per run.
        init (str): Label of the group. Defaults to ''.
        fraction (float): Label of the group. Defaults to nan.
    """
    arr = np.asarray(values, dtype=float)
    n = int(arr.size)
    if n == 0:
        return Summary(init, fraction, 0, None, None, 'no runs')
    if n == 1:
        return Summary(init, fraction, 1, float(arr[0]), None, 'n=1: no spread')
    return Summary(init, fraction, n, float(arr.mean()), float(arr.std(ddof=1)))


def cell_stats(rows: Sequence[Row], metric: str = 'mIoU') -> List[Summary]:
    """Summarise ``metric`` per (init, fraction) cell, skipping rows where it is missing.

    Args:
        rows (Sequence[Mapping]): Runs, see the module docstring.
        metric (str): Column to summarise. Defaults to 'mIoU'.

    Returns:
        list[Summary]: One entry per cell that has at least one value, sorted by cell.
    """
    check_unique(rows)
    groups: Dict[Tuple[str, float], List[float]] = {}
    for row in rows:
        if row.get(metric) is not None:
            groups.setdefault((str(row['init']), float(row['fraction'])), []).append(
                float(row[metric]))
    return [summarise(v, *k) for k, v in sorted(groups.items())]


def paired_difference(rows: Sequence[Row], init: str, baseline: str, fraction: float,
                      metric: str = 'mIoU', confidence: float = 0.95) -> PairedDiff:
    """Paired difference ``init - baseline`` at one fraction, runs matched on seed.

    The confidence interval is ``mean +- t((1+confidence)/2, n-1) * sd / sqrt(n)``; the p-values
    are scipy's paired t-test and (for at least :data:`WILCOXON_MIN_N` non-zero differences)
    the exact Wilcoxon signed-rank test, both two-sided.

    Args:
        rows (Sequence[Mapping]): Runs, see the module docstring.
        init (str): Initialisation of interest, e.g. 'densecl'.
        baseline (str): Initialisation subtracted, e.g. 'random'.
        fraction (float): Labelled fraction at which runs are paired.
        metric (str): Column compared. Defaults to 'mIoU'.
        confidence (float): Level of the interval, in (0, 1). Defaults to 0.95.

    Returns:
        PairedDiff: Unavailable figures are None and ``note`` says why.
    """
    if not 0.0 < confidence < 1.0:
        raise ValueError(f'confidence must be in (0, 1), got {confidence!r}')
    check_unique(rows)
    by_seed: Dict[str, Dict[int, float]] = {init: {}, baseline: {}}
    for row in rows:
        name, frac, seed = _key(row)
        if name in by_seed and math.isclose(frac, fraction) and row.get(metric) is not None:
            by_seed[name][seed] = float(row[metric])
    seeds = tuple(sorted(set(by_seed[init]) & set(by_seed[baseline])))
    diff = np.array([by_seed[init][s] - by_seed[baseline][s] for s in seeds], dtype=float)
    n = int(diff.size)
    out = PairedDiff(init, baseline, fraction, n, None, None, None, None, None, None, seeds)
    if n == 0:
        out.note = 'no seed run with both initialisations'
        return out
    out.mean = float(diff.mean())
    if n < 2:
        out.note = 'n=1 pair: no spread, no interval, no test'
        return out
    out.std = float(diff.std(ddof=1))
    half = float(sps.t.ppf((1.0 + confidence) / 2.0, n - 1)) * out.std / math.sqrt(n)
    out.ci_low, out.ci_high = out.mean - half, out.mean + half
    notes = []
    if out.std <= 1e-12 * max(1.0, float(np.abs(diff).max())):
        notes.append('all differences equal: t-test undefined')
    else:
        out.p_ttest = float(sps.ttest_rel([by_seed[init][s] for s in seeds],
                                          [by_seed[baseline][s] for s in seeds]).pvalue)
    nonzero = int(np.count_nonzero(diff))
    if nonzero < WILCOXON_MIN_N:
        notes.append(f'Wilcoxon not run: {nonzero} non-zero pairs, its smallest possible p is '
                     f'{min(1.0, 2.0 / 2 ** nonzero):.3g} (needs >= {WILCOXON_MIN_N} to reach 5%)')
    else:
        out.p_wilcoxon = float(sps.wilcoxon(diff, zero_method='wilcox').pvalue)
    out.note = '; '.join(notes)
    return out


def iterations_to_fraction(curve: Sequence[Sequence[float]], level: float = 0.9) -> Optional[int]:
    """First iteration whose mIoU reaches ``level`` times the final (last) point.

    Args:
        curve (Sequence): ``[iteration, mIoU]`` pairs; sorted by iteration here.
        level (float): Fraction of the final value, in (0, 1]. Defaults to 0.9.

    Returns:
        int | None: The iteration, or None for an empty curve.
    """
    if not 0.0 < level <= 1.0:
        raise ValueError(f'level must be in (0, 1], got {level!r}')
    points = sorted((int(p[0]), float(p[1])) for p in curve)
    if not points:
        return None
    target = level * points[-1][1]
    return next(it for it, v in points if v >= target)


def convergence_stats(rows: Sequence[Row], level: float = 0.9) -> List[Summary]:
    """Mean/std/n per (init, fraction) of :func:`iterations_to_fraction` over runs with a curve.

    Args:
        rows (Sequence[Mapping]): Runs, see the module docstring.
        level (float): Fraction of the final mIoU to reach. Defaults to 0.9.
    """
    check_unique(rows)
    groups: Dict[Tuple[str, float], List[float]] = {}
    for row in rows:
        it = iterations_to_fraction(row.get('curve') or [], level)
        if it is not None:
            groups.setdefault((str(row['init']), float(row['fraction'])), []).append(it)
    return [summarise(v, *k) for k, v in sorted(groups.items())]


def holm(pvalues: Sequence[Optional[float]]) -> List[Optional[float]]:
    """Holm-Bonferroni adjusted p-values (step-down), in the order given.

    With m tests sorted by p, the k-th smallest (k = 0, 1, ...) is multiplied by ``m - k``; the
    adjusted values are made non-decreasing in that order and capped at 1. Rejecting where the
    adjusted p is below alpha controls the family-wise error rate at alpha for any dependence
    between the tests (Holm 1979). ``None`` (a test that could not be run) stays ``None`` and
    does not count towards m.

    Args:
        pvalues (Sequence[float | None]): Raw p-values in [0, 1].

    Returns:
        list[float | None]: Adjusted p-values, same order and length.
    """
    for p in pvalues:
        if p is not None and not 0.0 <= float(p) <= 1.0:
            raise ValueError(f'p-values must be in [0, 1], got {p!r}')
    present = sorted((float(p), i) for i, p in enumerate(pvalues) if p is not None)
    m = len(present)
    out: List[Optional[float]] = [None] * len(pvalues)
    running = 0.0
    for k, (p, i) in enumerate(present):
        running = max(running, min(1.0, (m - k) * p))
        out[i] = running
    return out


def detectable_difference(sd: Optional[float], n: int, alpha: float = 0.05,
                          power: float = 0.8) -> Optional[float]:
    """Smallest mean paired difference a two-sided paired t-test at ``alpha`` detects with
    ``power``, for ``n`` pairs whose differences spread by ``sd``:
    ``(t(1 - alpha/2, n-1) + t(power, n-1)) * sd / sqrt(n)`` (the usual approximation; it
    ignores the noncentral t). None for n < 2 or no sd."""
    if sd is None or n < 2:
        return None
    k = float(sps.t.ppf(1 - alpha / 2, n - 1)) + float(sps.t.ppf(power, n - 1))
    return k * float(sd) / math.sqrt(n)
