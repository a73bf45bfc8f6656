"""The study's written report: results.md (tables, paired differences, caveats) and the plot
of mIoU against label fraction, from results.csv (read and written by :mod:`.results`)."""
from __future__ import annotations

import math
import os
import os.path as osp
from typing import List, Mapping, Optional, Sequence

from ..fileio import atomic_savefig, atomic_write
from .results import read_results
from .diagnostics import (comparisons_for, diagnostics, paired_rows, paired_table,
                          plot_probe_curves, probe_section, verdict, weight_section)
from .gates import compute_gates, gates_section
from .stats import Summary, cell_stats, convergence_stats, detectable_difference


def _ms(s: Optional[Summary], digits: int = 2) -> str:
    if s is None or s.mean is None:
        return '-'
    sd = '' if s.std is None else f' ± {s.std:.{digits}f}'
    return f'{s.mean:.{digits}f}{sd} ({s.n})'


def _grid(title: str, cells: List[Summary], inits: List[str], fracs: List[float],
          digits: int = 2) -> List[str]:
    at = {(c.init, c.fraction): c for c in cells}
    lines = [f'## {title}', '', '| fraction | ' + ' | '.join(inits) + ' |',
             '|---' * (len(inits) + 1) + '|']
    lines += [f'| {f:g} | ' + ' | '.join(_ms(at.get((i, f)), digits) for i in inits) + ' |'
              for f in fracs]
    return lines + ['']


#: what an mmseg study's validation curve measures, and its steps (write_report's ``curve``)
CURVE_MMSEG = dict(metric='val mIoU', step='iteration')


def _caveats(rows: List[dict], cells: List[Summary], n_tests: int,
             step: str = 'iteration') -> List[str]:
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
              f'- The paired-t p-values of the {n_tests} comparisons are given raw and '
              'Holm-adjusted for multiple testing; only the Holm column supports a claim at '
              'the 5% level.']
    gaps = [b[0] - a[0] for r in rows for a, b in zip(sorted(r['curve']), sorted(r['curve'])[1:])]
    if gaps:
        lines.append(f'- {step.capitalize()}s to 90% are known only to the validation interval '
                     f'(smallest gap seen: {min(gaps):g} {step}s).')
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
    atomic_savefig(fig, out_path)
    return out_path


def design_section(rows: List[dict], design: Optional[Mapping[str, Mapping[str, int]]]
                   ) -> List[str]:
    """How many patients each split holds, how many each fraction trains on, and what
    difference the design can detect."""
    lines = ['## Design: what the splits can measure', '']
    if design:
        lines.append('Patients (images) per split: ' + ', '.join(
            f'{s} {d["patients"]} ({d["images"]})' for s, d in design.items()) + '.')
    trained = {}
    for r in rows:
        if r.get('train_patients') is not None:
            trained.setdefault(float(r['fraction']), set()).add(
                (int(r['train_patients']), int(r.get('train_images') or 0)))
    if trained:
        lines.append('Trained on, per fraction (patients / images; the subset is drawn per '
                     'seed): ' + '; '.join(
                         f'{f:g}: ' + ', '.join(f'{p}/{i}' for p, i in sorted(v))
                         for f, v in sorted(trained.items())) + '.')
    if len(lines) == 2:
        return []
    lines.append('The smallest difference a paired t-test at 5% detects with 80% power at the '
                 "design's number of seeds and the observed spread of the differences is in "
                 'the "detectable" column of the paired table.')
    return lines + ['']


def selection_section(rows: List[dict], inits: List[str], fracs: List[float],
                      step: str = 'iteration') -> List[str]:
    """The iteration (``step``) selected on val (the test figures are of that checkpoint),
    per cell."""
    if not any(r.get('best_iter') is not None for r in rows):
        return []
    sel = [dict(r, mIoU=r['best_iter']) for r in rows if r.get('best_iter') is not None]
    out = _grid(f'{step.capitalize()} selected on val (the checkpoint tested)',
                cell_stats(sel, 'mIoU'), inits, fracs, digits=0)
    total = sorted({int(r['max_iters']) for r in rows if r.get('max_iters')})
    if total:
        out.insert(2, f'Of {", ".join(map(str, total))} iterations. Test figures above are of '
                   'the best-val checkpoint (mmengine CheckpointHook save_best), not the last '
                   'iterate.')
        out.insert(3, '')
    return out


def plot_learning_curves(rows: List[dict], out_path: str, inits: Sequence[str],
                         curve: Optional[Mapping[str, str]] = None) -> Optional[str]:
    """Validation mIoU (``curve['metric']``) against iteration (``curve['step']``): one panel
    per fraction, one line per init (mean over seeds) with a band of ± sd; None where no run
    has a curve."""
    import numpy as np
    from matplotlib import colormaps
    from matplotlib.figure import Figure
    curve = dict(CURVE_MMSEG, **(curve or {}))
    fracs = sorted({float(r['fraction']) for r in rows if r.get('curve')})
    if not fracs:
        return None
    fig = Figure(figsize=(4.2 * len(fracs), 3.8), dpi=120)
    axes = fig.subplots(1, len(fracs), squeeze=False, sharey=True)[0]
    for ax, frac in zip(axes, fracs):
        for k, init in enumerate(inits):
            curves = [dict((int(it), float(v)) for it, v in r['curve']) for r in rows
                      if r['init'] == init and float(r['fraction']) == frac and r.get('curve')]
            if not curves:
                continue
            its = sorted(set.intersection(*(set(c) for c in curves)))
            vals = np.array([[c[i] for i in its] for c in curves])
            mean = vals.mean(axis=0)
            sd = vals.std(axis=0, ddof=1) if len(curves) > 1 else np.zeros_like(mean)
            color = colormaps['tab10'](k % 10)
            ax.plot(its, mean, color=color, label=f'{init} (n={len(curves)})')
            ax.fill_between(its, mean - sd, mean + sd, color=color, alpha=0.2, linewidth=0)
        ax.set(title=f'fraction {frac:g}', xlabel=f'fine-tuning {curve["step"]}')
        ax.grid(alpha=0.3)
    axes[0].set_ylabel(f'{curve["metric"]} (%)')
    axes[-1].legend(fontsize=8)
    # wrap: one panel (a study with one fraction) is narrower than the title
    fig.suptitle(f'{curve["metric"]} during fine-tuning (mean ± sd over seeds)', wrap=True)
    fig.tight_layout()
    atomic_savefig(fig, out_path)
    return out_path


def write_report(results_csv: str, out_dir: str, baseline: str = 'random',
                 pretrainings: Optional[Mapping[str, Mapping]] = None,
                 design: Optional[Mapping[str, Mapping[str, int]]] = None,
                 curve: Optional[Mapping[str, str]] = None) -> List[str]:
    """Write ``results.md``, ``miou_vs_fraction.png`` and ``learning_curves.png`` for a
    results.csv into ``out_dir``; the report opens with the gates (:mod:`.gates`) and a
    verdict that says "cannot tell" where one fails.

    Args:
        results_csv (str): The study's results file.
        out_dir (str): Folder for the report; created when absent.
        baseline (str): Init the others are compared with. Defaults to 'random'.
        pretrainings (Mapping[str, Mapping], optional): Per pretrained init, as the study
            runner records it: ``start_arm`` (name of its same-start arm), ``weight_change``
            (:func:`mmssl_us.study.weights.weight_change`) and ``probe`` (the DenseProbeHook
            history). Adds the comparison with the same-start arm, the verdict, the weight
            change and the probe sections (and ``probe_curves.png``). Defaults to None.
        design (Mapping[str, Mapping[str, int]], optional): Per split, ``images`` and
            ``patients`` (:func:`mmssl_us.study.runner.split_sizes`), for the design section.
            Defaults to None.
        curve (Mapping[str, str], optional): What the rows' ``curve`` measures (``metric``)
            and what its steps are (``step``), for the gates, tables and plot. Defaults to
            :data:`CURVE_MMSEG` (val mIoU per iteration).

    Returns:
        list[str]: Paths of the markdown report and of the plots.
    """
    curve = dict(CURVE_MMSEG, **(curve or {}))
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
    # the Dice of each class beside its IoU (the echo literature reports the LV's Dice)
    for cls in sorted({k[5:] for r in rows for k in r if k.startswith('Dice.')}):
        lines += _grid(f'Dice of class {cls} (%)', cell_stats(rows, f'Dice.{cls}'), inits,
                       fracs)
    start_arms, changes, probes = diagnostics(pretrainings)
    pairs = paired_rows(rows, comparisons_for(inits, baseline, start_arms), fracs)
    gates = compute_gates(rows, baseline, metric=curve['metric'])
    lines[4:4] = (gates_section(gates) + verdict(pairs, start_arms, baseline, gates)
                  + design_section(rows, design))
    lines += selection_section(rows, inits, fracs, curve['step'])
    lines += paired_table(pairs)
    if baseline not in inits:
        lines += [f'No run has init {baseline!r}: no comparison with it.', '']
    lines += weight_section(changes)
    lines += probe_section(probes)
    lines += _grid(f'{curve["step"].capitalize()}s to reach 90% of the final '
                   f'{curve["metric"]}', convergence_stats(rows), inits, fracs, digits=0)
    lines += _caveats(rows, miou, sum(d.p_ttest is not None for d, _ in pairs), curve['step'])
    os.makedirs(out_dir, exist_ok=True)
    md = osp.join(out_dir, 'results.md')
    atomic_write(md, '\n'.join(lines))
    png = plot_miou_vs_fraction(rows, osp.join(out_dir, 'miou_vs_fraction.png'), inits)
    curves_png = plot_learning_curves(rows, osp.join(out_dir, 'learning_curves.png'), inits,
                                      curve)
    probe_png = plot_probe_curves(probes, osp.join(out_dir, 'probe_curves.png'))
    return [md, png] + ([curves_png] if curves_png else []) + ([probe_png] if probe_png else [])
