"""Gates: the checks a study's runs must pass before the report states a verdict.

A label-efficiency verdict ("pretraining helped" / "did not help") means something only when
the measuring instrument worked: every arm's fine-tuning had reached its plateau, the baseline
gained from more labels, and no run collapsed to predicting one class. Each gate is computed
from the runs in ``results.csv`` (rows as read by :func:`mmssl_us.study.results.read_results`)
and reported with its figure; a comparison that involves an arm failing a gate gets the verdict
"cannot tell: <gate>" instead of "helped" / "did not help".

The thresholds are module constants, printed in the report beside each figure.
"""
from __future__ import annotations

import math

from dataclasses import dataclass, field
from typing import Dict, List, Mapping, Optional, Sequence

#: a run has converged when its best val mIoU rose by less than this (points) over the last
#: quarter of its schedule
CONVERGED_RISE = 1.0
#: the share of an arm's runs that must have converged
CONVERGED_SHARE = 0.8
#: a run is degenerate when the test IoU of a class is below this (percent): it (almost) never
#: predicts that class where it is
DEGENERATE_IOU = 1.0

__all__ = ['Gate', 'last_quarter_rise', 'converged_gate', 'more_labels_gate',
           'degenerate_gate', 'compute_gates', 'blocking_reasons', 'gates_section',
           'CONVERGED_RISE', 'CONVERGED_SHARE', 'DEGENERATE_IOU']


@dataclass
class Gate:
    """One gate: passed (True/False; None where it does not apply), its figure in words, the
    arms it fails for (empty: the whole study) and detail lines."""
    name: str
    passed: Optional[bool]
    figure: str
    failing_arms: List[str] = field(default_factory=list)
    detail: List[str] = field(default_factory=list)


def _name(row: Mapping) -> str:
    return f'{row["init"]}/frac{float(row["fraction"]):g}_seed{int(row["seed"])}'


def last_quarter_rise(curve: Sequence[Sequence[float]],
                      max_iters: Optional[float] = None) -> Optional[float]:
    """How much the best validation mIoU rose over the last quarter of the schedule.

    ``max(all points) - max(points up to 75% of max_iters)`` (>= 0): a run still improving at
    the end rises; a run on its plateau (or falling) rises by ~0.

    Args:
        curve: ``[iteration, mIoU]`` pairs.
        max_iters: Schedule length; defaults to the curve's last iteration.

    Returns:
        float | None: None when the curve has no point in the first three quarters or none in
        the last quarter (too few validations to tell).
    """
    points = sorted((float(p[0]), float(p[1])) for p in curve)
    if not points:
        return None
    total = float(max_iters) if max_iters else points[-1][0]
    cut = 0.75 * total
    before = [v for it, v in points if it <= cut]
    after = [v for it, v in points if it > cut]
    if not before or not after:
        return None
    return max(0.0, max(after) - max(before))


def converged_gate(rows: Sequence[Mapping], rise: float = CONVERGED_RISE,
                   share: float = CONVERGED_SHARE, metric: str = 'val mIoU') -> Gate:
    """Per arm, the share of runs whose best ``metric`` (the rows' ``curve``) rose by less
    than ``rise`` over the last quarter of the schedule; the gate fails for every arm below
    ``share``."""
    per_arm: Dict[str, List[Optional[float]]] = {}
    for row in rows:
        if row.get('mIoU') is None:
            continue
        per_arm.setdefault(str(row['init']), []).append(
            last_quarter_rise(row.get('curve') or [], row.get('max_iters')))
    if not per_arm:
        return Gate('converged', None, 'no finished runs')
    parts, failing, detail = [], [], []
    for arm, rises in sorted(per_arm.items()):
        ok = sum(r is not None and r < rise for r in rises)
        unknown = sum(r is None for r in rises)
        known = [r for r in rises if r is not None]
        worst = f', largest rise {max(known):.2f}' if known else ''
        parts.append(f'{arm} {ok}/{len(rises)}{worst}')
        if ok < share * len(rises):
            failing.append(arm)
        if unknown:
            detail.append(f'{arm}: {unknown} run(s) with too few validation points to tell '
                          '(counted as not converged)')
    figure = (f'runs whose best {metric} rose by < {rise:g} points over the last quarter of '
              f'the schedule (need >= {100 * share:g}% per arm): ' + '; '.join(parts))
    return Gate('converged', not failing, figure, failing, detail)


def more_labels_gate(rows: Sequence[Mapping], baseline: str,
                     metric: str = 'mIoU') -> Gate:
    """The baseline's mean at the highest fraction is above its mean at the lowest."""
    import numpy as np
    by_frac: Dict[float, List[float]] = {}
    for row in rows:
        if row['init'] == baseline and row.get(metric) is not None:
            by_frac.setdefault(float(row['fraction']), []).append(float(row[metric]))
    if len(by_frac) < 2:
        return Gate('more labels help', None,
                    f'{baseline}: runs at {len(by_frac)} fraction(s), the gate needs two')
    low, high = min(by_frac), max(by_frac)
    m_low, m_high = float(np.mean(by_frac[low])), float(np.mean(by_frac[high]))
    figure = (f'{baseline} mean test {metric} {m_high:.2f} at fraction {high:g} vs '
              f'{m_low:.2f} at {low:g} ({m_high - m_low:+.2f})')
    return Gate('more labels help', m_high > m_low, figure)


def degenerate_gate(rows: Sequence[Mapping], iou: float = DEGENERATE_IOU) -> Gate:
    """Runs whose test IoU of some class is below ``iou`` percent (or NaN: the class occurred
    in neither prediction nor ground truth), counted per arm and named."""
    classes = sorted({k for r in rows for k in r if k.startswith('IoU.')})
    bad: Dict[str, List[str]] = {}
    arms = sorted({str(r['init']) for r in rows if r.get('mIoU') is not None})
    for row in rows:
        if row.get('mIoU') is None:
            continue
        # NaN: the class occurred in neither prediction nor ground truth; None: not recorded
        low = [f'{c[4:]} {row[c]:.2f}' if not math.isnan(float(row[c])) else f'{c[4:]} n/a'
               for c in classes if row.get(c) is not None
               and (math.isnan(float(row[c])) or float(row[c]) < iou)]
        if low:
            bad.setdefault(str(row['init']), []).append(f'{_name(row)} (IoU {", ".join(low)})')
    if not classes:
        return Gate('degenerate runs', None, 'no per-class IoU in results.csv')
    figure = (f'runs with a class at test IoU < {iou:g}%: ' +
              '; '.join(f'{a} {len(bad.get(a, []))}' for a in arms))
    detail = [f'{a}: ' + ', '.join(names) for a, names in sorted(bad.items())]
    return Gate('degenerate runs', not bad, figure, sorted(bad), detail)


def compute_gates(rows: Sequence[Mapping], baseline: str, metric: str = 'val mIoU'
                  ) -> List[Gate]:
    """The three gates of a study's runs, in report order; ``metric`` names the curve."""
    rows = [r for r in rows if r.get('mIoU') is not None]
    return [converged_gate(rows, metric=metric), more_labels_gate(rows, baseline),
            degenerate_gate(rows)]


def blocking_reasons(gates: Sequence[Gate], arms: Sequence[str]) -> List[str]:
    """The failed gates that stop a verdict on a comparison of ``arms``: a study-wide gate
    (no failing arms named) always, an arm's gate when one of ``arms`` fails it."""
    out = []
    for g in gates:
        if g.passed is False:
            hit = [a for a in arms if a in g.failing_arms]
            if not g.failing_arms:
                out.append(g.name)
            elif hit:
                out.append(f'{g.name} ({", ".join(hit)})' if g.name != 'converged'
                           else f'not converged ({", ".join(hit)})')
    return out


def gates_section(gates: Sequence[Gate]) -> List[str]:
    """The report's gate lines, each with its figure."""
    word = {True: 'pass', False: '**FAIL**', None: 'n/a'}
    lines = ['## Gates', '',
             'A verdict is given only where these pass; otherwise it reads "cannot tell".', '']
    for g in gates:
        lines.append(f'- **{g.name}**: {word[g.passed]}. {g.figure}.')
        lines += [f'  - {d}' for d in g.detail]
    if any(g.passed is False and g.name == 'more labels help' for g in gates):
        lines.append('- **Warning**: the baseline did not improve with more labels, so this '
                     'study cannot say anything about label efficiency.')
    return lines + ['']
