"""The study's written report: results.md (tables, paired differences, caveats) and the plot
of mIoU against label fraction, from results.csv (read and written by :mod:`.results`)."""
from __future__ import annotations

import math
import os
import os.path as osp
from typing import List, Optional, Sequence

from .results import read_results
from .stats import Summary, cell_stats, convergence_stats, paired_difference


def _ms(s: Optional[Summary], digits: int = 2) -> str:
    if s is None or s.mean is None:
        return '-'
    sd = '' if s.std is None else f' ± {s.std:.{digits}f}'
    return f'{s.mean:.{digits}f}{sd} ({s.n})'


def _p(p: Optional[float]) -> str:
    return '-' if p is None else f'{p:.3g}'


def _grid(title: str, cells: List[Summary], inits: List[str], fracs: List[float],
          digits: int = 2) -> List[str]:
    at = {(c.init, c.fraction): c for c in cells}
    lines = [f'## {title}', '', '| fraction | ' + ' | '.join(inits) + ' |',
             '|---' * (len(inits) + 1) + '|']
    lines += [f'| {f:g} | ' + ' | '.join(_ms(at.get((i, f)), digits) for i in inits) + ' |'
              for f in fracs]
    return lines + ['']


def _paired_table(rows: List[dict], inits: List[str], fracs: List[float],
                  baseline: str) -> List[str]:
    lines = [f'## Paired differences vs {baseline} (mIoU points, matched on seed)', '']
    if baseline not in inits:
        return lines + [f'No run has init {baseline!r}: no paired differences.', '']
    lines += ['| init | fraction | pairs | mean diff | 95% CI | p (paired t) | p (Wilcoxon) '
              '| note |', '|---' * 8 + '|']
    for init in (i for i in inits if i != baseline):
        for f in fracs:
            if not any(r['init'] == init and r['fraction'] == f for r in rows):
                continue
            d = paired_difference(rows, init, baseline, f)
            ci = '-' if d.ci_low is None else f'[{d.ci_low:+.2f}, {d.ci_high:+.2f}]'
            mean = '-' if d.mean is None else f'{d.mean:+.2f}'
            lines.append(f'| {init} | {f:g} | {d.n} | {mean} | {ci} | {_p(d.p_ttest)} | '
                         f'{_p(d.p_wilcoxon)} | {d.note} |')
    return lines + ['']


def _caveats(rows: List[dict], cells: List[Summary], n_tests: int) -> List[str]:
    from scipy.stats import t
    ns = [c.n for c in cells]
    lines = ['## What these numbers do not show', '',
             f'- Runs per cell: {min(ns)} to {max(ns)}.']
    if min(ns) >= 2:
        k = float(t.ppf(0.975, min(ns) - 1)) / math.sqrt(min(ns))
        lines.append(f'- With n = {min(ns)}, the 95% interval of a cell mean is mean ± {k:.2f} '
                     'sd: differences smaller than that are within the noise of the design.')
    lines += ['- The spread is over seeds (training randomness, and the labelled subset where '
              'it is drawn per seed) on one dataset and one test split, not over patients, '
              'sites or scanners.',
              f'- The p-values of the {n_tests} paired comparisons are not corrected for '
              'multiple testing; read them as descriptive, not as a significance claim.']
    gaps = [b[0] - a[0] for r in rows for a, b in zip(sorted(r['curve']), sorted(r['curve'])[1:])]
    if gaps:
        lines.append(f'- Iterations to 90% are known only to the validation interval '
                     f'(smallest gap seen: {min(gaps):g} iterations).')
    absent = sum(r.get('mIoU') is None for r in rows)
    if absent:
        lines.append(f'- {absent} run(s) have no mIoU and are left out of every figure.')
    return lines + ['']


def plot_miou_vs_fraction(rows: List[dict], out_path: str, inits: Sequence[str],
                          metric: str = 'mIoU') -> str:
    """Mean +- sd of ``metric`` against the fraction (log x), one line per init, runs as dots.

    Args:
        rows (list[dict]): Runs as read by :func:`read_results`.
        out_path (str): PNG to write.
        inits (Sequence[str]): Lines to draw, in legend order.
        metric (str): Column plotted. Defaults to 'mIoU'.

    Returns:
        str: ``out_path``.
    """
    from matplotlib import colormaps
    from matplotlib.figure import Figure
    from matplotlib.ticker import NullFormatter
    fig = Figure(figsize=(6.4, 4.2), dpi=120)
    ax = fig.add_subplot()
    cells = cell_stats(rows, metric)
    for k, init in enumerate(inits):
        dodge = 1.04 ** (k - (len(inits) - 1) / 2)  # keeps error bars of inits apart
        color = colormaps['tab10'](k % 10)
        cs = [c for c in cells if c.init == init]
        ax.errorbar([c.fraction * dodge for c in cs], [c.mean for c in cs],
                    yerr=[0.0 if c.std is None else c.std for c in cs], marker='o',
                    capsize=3, color=color, label=init)
        pts = [(r['fraction'] * dodge, r[metric]) for r in rows
               if r['init'] == init and r.get(metric) is not None]
        ax.scatter([p[0] * 1.015 for p in pts], [p[1] for p in pts], s=16, alpha=0.4,
                   color=color, linewidths=0, zorder=3)
    fracs = sorted({c.fraction for c in cells})
    ax.set_xscale('log')
    ax.set_xticks(fracs, [f'{f:g}' for f in fracs])
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set(xlabel='labelled fraction (log scale)', ylabel=f'{metric} (%)',
           title=f'{metric} vs labelled fraction (mean ± sd over seeds; dots: runs)')
    ax.grid(alpha=0.3)
    ax.legend(title='init')
    fig.tight_layout()
    fig.savefig(out_path)
    return out_path


def write_report(results_csv: str, out_dir: str, baseline: str = 'random') -> List[str]:
    """Write ``results.md`` and ``miou_vs_fraction.png`` for a results.csv into ``out_dir``.

    Args:
        results_csv (str): The study's results file.
        out_dir (str): Folder for the report; created when absent.
        baseline (str): Init the others are compared with. Defaults to 'random'.

    Returns:
        list[str]: Paths of the markdown report and of the plot.
    """
    rows = read_results(results_csv)
    if not any(r.get('mIoU') is not None for r in rows):
        raise ValueError(f'{results_csv}: no run with an mIoU to report')
    inits = sorted({r['init'] for r in rows}, key=lambda i: (i != baseline, i))
    fracs = sorted({r['fraction'] for r in rows})
    miou = cell_stats(rows, 'mIoU')
    lines = ['# Label-efficiency study', '',
             f'{len(rows)} runs from `{results_csv}`. Cells: mean ± sd (ddof=1) over seeds, '
             '(n) runs; metrics in percent on the test split.', '']
    lines += _grid('mIoU (%)', miou, inits, fracs)
    lines += _grid('mDice (%)', cell_stats(rows, 'mDice'), inits, fracs)
    for cls in sorted({k[4:] for r in rows for k in r if k.startswith('IoU.')}):
        lines += _grid(f'IoU of class {cls} (%)', cell_stats(rows, f'IoU.{cls}'), inits, fracs)
    lines += _paired_table(rows, inits, fracs, baseline)
    lines += _grid('Iterations to reach 90% of the final mIoU', convergence_stats(rows),
                   inits, fracs, digits=0)
    n_tests = len(fracs) * len([i for i in inits if i != baseline]) if baseline in inits else 0
    lines += _caveats(rows, miou, n_tests)
    os.makedirs(out_dir, exist_ok=True)
    md = osp.join(out_dir, 'results.md')
    with open(md, 'w', encoding='utf-8') as f:
        f.write('\n'.join(lines))
    png = plot_miou_vs_fraction(rows, osp.join(out_dir, 'miou_vs_fraction.png'), inits)
    return [md, png]
