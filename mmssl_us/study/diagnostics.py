"""The report's sections on what pretraining did: paired comparisons with Holm-adjusted
p-values (against random init and against the pretraining's own untrained start), a plain
verdict, how far the weights moved, and the online dense probe's curve."""
from __future__ import annotations

from typing import Dict, List, Mapping, Optional, Sequence, Tuple

from ..fileio import atomic_savefig
from .stats import PairedDiff, detectable_difference, holm, paired_difference
from .weights import BARELY_MOVED

Comparison = Tuple[str, str]  # (init, reference)


def _p(p: Optional[float]) -> str:
    return '-' if p is None else f'{p:.3g}'


def comparisons_for(inits: Sequence[str], baseline: str,
                    start_arms: Mapping[str, str]) -> List[Comparison]:
    """Every init against the baseline, and every pretraining against its same-start arm."""
    out = [(i, baseline) for i in inits if i != baseline and baseline in inits]
    out += [(p, s) for p, s in start_arms.items() if p in inits and s in inits]
    return out


def paired_rows(rows: List[dict], comparisons: Sequence[Comparison],
                fracs: Sequence[float]) -> List[Tuple[PairedDiff, Optional[float]]]:
    """Paired differences of every comparison at every fraction with runs, and their Holm p."""
    have = {(r['init'], r['fraction']) for r in rows}
    diffs = [paired_difference(rows, a, b, f) for a, b in comparisons for f in fracs
             if (a, f) in have and (b, f) in have]
    return list(zip(diffs, holm([d.p_ttest for d in diffs])))


def paired_table(pairs: List[Tuple[PairedDiff, Optional[float]]]) -> List[str]:
    lines = ['## Paired differences (mIoU points, matched on seed)', '',
             f'p (Holm): the paired-t p-values adjusted by Holm\'s step-down method over the '
             f'{sum(d.p_ttest is not None for d, _ in pairs)} comparisons of this table.', '',
             'detectable: the smallest mean difference a paired t-test at 5% would detect '
             'with 80% power at this number of pairs and this spread of the differences.', '',
             '| init | minus | fraction | pairs | mean diff | 95% CI | detectable | '
             'p (paired t) | p (Holm) | p (Wilcoxon) | note |', '|---' * 11 + '|']
    for d, p_holm in pairs:
        ci = '-' if d.ci_low is None else f'[{d.ci_low:+.2f}, {d.ci_high:+.2f}]'
        mean = '-' if d.mean is None else f'{d.mean:+.2f}'
        mdd = detectable_difference(d.std, d.n)
        mdd = '-' if mdd is None else f'{mdd:.2f}'
        lines.append(f'| {d.init} | {d.baseline} | {d.fraction:g} | {d.n} | {mean} | {ci} | '
                     f'{mdd} | {_p(d.p_ttest)} | {_p(p_holm)} | {_p(d.p_wilcoxon)} | '
                     f'{d.note} |')
    return lines + ['']


def _word(d: PairedDiff, p_holm: Optional[float]) -> str:
    if d.mean is None:
        return 'no paired runs'
    sig = p_holm is not None and p_holm < 0.05
    if sig:
        return 'better' if d.mean > 0 else 'worse'
    return 'no difference shown (Holm p >= 0.05)' if p_holm is not None else 'untested'


def verdict(pairs: List[Tuple[PairedDiff, Optional[float]]], start_arms: Mapping[str, str],
            baseline: str, gates: Sequence = ()) -> List[str]:
    """Plain sentences at the lowest fraction: does each pretraining beat random init and its
    own untrained start (the second is the effect of pretraining itself)? Where a gate
    (:mod:`.gates`) fails for the study or for an arm of a comparison, that comparison reads
    "cannot tell: <gate>" instead."""
    from .gates import blocking_reasons
    if not pairs:
        return []
    low = min(d.fraction for d, _ in pairs)
    at = {(d.init, d.baseline): (d, p) for d, p in pairs if d.fraction == low}
    lines = [f'## Verdict at the lowest label fraction ({low:g})', '']
    for pre, start in start_arms.items():
        vs_base, vs_start = at.get((pre, baseline)), at.get((pre, start))
        for label, got, ref in ((f'{baseline} init', vs_base, baseline),
                                (f'its own untrained start ({start})', vs_start, start)):
            if got is None:
                continue
            d, p = got
            mean = '-' if d.mean is None else f'{d.mean:+.2f}'
            blocked = blocking_reasons(gates, [pre, ref])
            word = ('cannot tell: ' + '; '.join(blocked)) if blocked else _word(d, p)
            lines.append(f'- **{pre}** vs {label}: {mean} mIoU points over {d.n} seeds, '
                         f'Holm p {_p(p)}: {word}.')
        if vs_start is not None:
            d, p = vs_start
            blocked = blocking_reasons(gates, [pre, start])
            if blocked:
                lines.append(f'- So whether {pre} pretraining helped here **cannot be told**: '
                             + '; '.join(blocked) + ' (see Gates).')
                continue
            if p is None:  # one pair, or no spread: nothing was tested, so nothing follows
                lines.append(f'- So whether {pre} pretraining helped here **cannot be told**: '
                             f'{d.n} paired seed(s) give no test (run more seeds).')
                continue
            if not (d.mean is not None and d.mean > 0 and p < 0.05):
                lines.append(f'- So {pre} pretraining did **not** measurably help here: any gap '
                             f'to {baseline} init comes from how the networks were initialised, '
                             'not from what pretraining learnt.')
            else:
                lines.append(f'- So {pre} pretraining itself helped here (against the same '
                             'network, same init, untrained).')
    return lines + ['']


def weight_section(changes: Mapping[str, Mapping[str, Mapping[str, float]]]) -> List[str]:
    """Relative L2 change per stage for each pretraining, with a warning when barely moved."""
    if not changes:
        return []
    stages = sorted({s for c in changes.values() for s in c if s != 'all'},
                    key=lambda s: (s != 'stem', s)) + ['all']
    lines = ['## How far pretraining moved the weights', '',
             'Relative L2 change ||end - start|| / ||start|| of the learnable backbone tensors '
             'per stage (%); "BN scale": mean absolute change of the BN weights.', '',
             '| pretraining | ' + ' | '.join(stages) + ' | BN scale (all) |',
             '|---' * (len(stages) + 2) + '|']
    warn = []
    for name, c in changes.items():
        lines.append(f'| {name} | ' + ' | '.join(
            f'{100 * c[s]["rel_l2"]:.2f}' if s in c else '-' for s in stages) +
            f' | {c["all"]["bn_scale"]:.4f} |')
        if c['all']['rel_l2'] < BARELY_MOVED:
            warn.append(f'- **Warning**: {name} moved its weights by '
                        f'{100 * c["all"]["rel_l2"]:.2f}% overall (< {100 * BARELY_MOVED:g}%): '
                        'it barely trained, so it cannot have learnt much. Pretrain longer or '
                        'with a larger learning rate.')
    return lines + [''] + warn + ([''] if warn else [])


def probe_section(probes: Mapping[str, List[dict]]) -> List[str]:
    """First, best and last probe mIoU of each pretraining (the curve is in probe_curves.png)."""
    probes = {k: v for k, v in probes.items() if v}
    if not probes:
        return []
    lines = ['## Online dense probe during pretraining', '',
             'A linear 1x1-conv head fitted on the frozen backbone (few labelled train images), '
             'scored on the validation split (mIoU %). Curve: probe_curves.png.', '',
             '| pretraining | before training | best (epoch) | last (epoch) |',
             '|---|---|---|---|']
    for name, hist in probes.items():
        best = max(hist, key=lambda h: h['mIoU'])
        lines.append(f'| {name} | {hist[0]["mIoU"]:.2f} | {best["mIoU"]:.2f} ({best["epoch"]}) '
                     f'| {hist[-1]["mIoU"]:.2f} ({hist[-1]["epoch"]}) |')
    return lines + ['']


def plot_probe_curves(probes: Mapping[str, List[dict]], out_path: str) -> Optional[str]:
    """Probe mIoU against pretraining epoch, one line per pretraining; None if no probe."""
    probes = {k: v for k, v in probes.items() if v}
    if not probes:
        return None
    from matplotlib.figure import Figure
    fig = Figure(figsize=(6.4, 4.0), dpi=120)
    ax = fig.add_subplot()
    for name, hist in probes.items():
        ax.plot([h['epoch'] for h in hist], [h['mIoU'] for h in hist], marker='o', label=name)
    ax.set(xlabel='pretraining epoch', ylabel='probe mIoU on val (%)',
           title='Online dense probe (linear head on frozen features)')
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    atomic_savefig(fig, out_path)
    return out_path


def diagnostics(pretrainings: Optional[Mapping[str, Dict]]) -> Tuple[Dict[str, str],
                                                                      Dict, Dict]:
    """Split the runner's per-pretraining records into start arms, weight changes, probes."""
    pretrainings = pretrainings or {}
    start = {n: r['start_arm'] for n, r in pretrainings.items() if r.get('start_arm')}
    change = {n: r['weight_change'] for n, r in pretrainings.items() if r.get('weight_change')}
    probes = {n: r.get('probe') or [] for n, r in pretrainings.items()}
    return start, change, probes
