"""The report's gates on hand-made results: each passes and fails, and a failed gate turns the
verdict into "cannot tell"; the learning-curve plot is drawn from the runs' curves."""
import os

import pytest

from mmssl_us.study.gates import (blocking_reasons, compute_gates, converged_gate,
                                  degenerate_gate, last_quarter_rise, more_labels_gate)
from mmssl_us.study.report import plot_learning_curves, write_report
from mmssl_us.study.results import append_row, read_results

FLAT = [[100, 50.0], [200, 70.0], [300, 74.0], [400, 74.5]]  # +0.5 in the last quarter
RISING = [[100, 30.0], [200, 50.0], [300, 60.0], [400, 68.0]]  # +8 in the last quarter


def _row(init, frac, seed, miou, curve=FLAT, recess=None):
    return dict(init=init, fraction=frac, seed=seed, mIoU=miou, curve=curve, max_iters=400,
                **{'IoU.background': 95.0,
                   'IoU.recess': 2 * miou - 95.0 if recess is None else recess})


def test_last_quarter_rise():
    assert last_quarter_rise(FLAT) == pytest.approx(0.5)
    assert last_quarter_rise(RISING) == pytest.approx(8.0)
    # a fall at the end is no rise; the best point before the last quarter counts
    assert last_quarter_rise([[100, 80.0], [300, 60.0], [400, 61.0]]) == 0.0
    assert last_quarter_rise([[400, 60.0]]) is None  # nothing before the last quarter
    assert last_quarter_rise([[100, 50.0], [200, 60.0]], max_iters=400) is None  # stopped early
    assert last_quarter_rise([]) is None


def test_converged_gate_passes_and_fails_per_arm():
    rows = [_row('random', 0.1, s, 60.0) for s in range(5)]
    rows += [_row('densecl', 0.1, s, 60.0, RISING if s < 2 else FLAT) for s in range(5)]
    gate = converged_gate(rows)
    # densecl: 3/5 = 60% < 80%; random 5/5
    assert gate.passed is False and gate.failing_arms == ['densecl']
    assert 'densecl 3/5' in gate.figure and 'random 5/5' in gate.figure
    assert 'largest rise 8.00' in gate.figure
    rows = [r for r in rows if r['init'] == 'random'] + \
        [_row('densecl', 0.1, s, 60.0, RISING if s < 1 else FLAT) for s in range(5)]
    gate = converged_gate(rows)  # 4/5 = 80%: enough
    assert gate.passed is True and gate.failing_arms == []


def test_more_labels_gate():
    rows = [_row('random', 0.1, s, 66.0) for s in range(3)] + \
        [_row('random', 1.0, s, 64.0) for s in range(3)]
    gate = more_labels_gate(rows, 'random')
    assert gate.passed is False and '64.00 at fraction 1 vs 66.00 at 0.1' in gate.figure
    rows = [_row('random', 0.1, s, 60.0) for s in range(3)] + \
        [_row('random', 1.0, s, 78.0) for s in range(3)]
    assert more_labels_gate(rows, 'random').passed is True
    assert more_labels_gate(rows[:3], 'random').passed is None  # one fraction: n/a


def test_degenerate_gate_names_the_runs():
    rows = [_row('random', 0.1, s, 60.0) for s in range(3)]
    assert degenerate_gate(rows).passed is True
    rows.append(_row('densecl', 0.1, 2, 48.13, recess=0.0))  # all background
    gate = degenerate_gate(rows)
    assert gate.passed is False and gate.failing_arms == ['densecl']
    assert 'densecl 1; random 0' in gate.figure
    assert 'densecl/frac0.1_seed2 (IoU recess 0.00)' in gate.detail[0]


def test_blocking_reasons():
    rows = [_row('random', 0.1, s, 66.0) for s in range(3)] + \
        [_row('random', 1.0, s, 64.0, RISING) for s in range(3)] + \
        [_row('densecl', 0.1, s, 70.0) for s in range(3)]
    gates = compute_gates(rows, 'random')
    reasons = blocking_reasons(gates, ['densecl', 'random'])
    assert reasons == ['not converged (random)', 'more labels help']
    # densecl vs another converged arm is still blocked by the study-wide gate only
    assert blocking_reasons(gates, ['densecl', 'densecl_start']) == ['more labels help']


def _write(path, rows):
    for r in rows:
        append_row(str(path), r)


def test_report_says_cannot_tell_when_a_gate_fails(tmp_path):
    csv = tmp_path / 'results.csv'
    # the quickstart's old failure: the baseline scores lower with all the labels
    rows = []
    for s in range(3):
        rows += [_row('random', 0.1, s, 66.0 + s), _row('random', 1.0, s, 64.0 + s),
                 _row('densecl', 0.1, s, 72.0 + 2 * s), _row('densecl', 1.0, s, 75.0 + s),
                 _row('densecl_start', 0.1, s, 60.0 + s), _row('densecl_start', 1.0, s, 70.0)]
    _write(csv, rows)
    md = write_report(str(csv), str(tmp_path), pretrainings={
        'densecl': dict(start_arm='densecl_start')})[0]
    text = open(md).read()
    assert '## Gates' in text and '**more labels help**: **FAIL**' in text
    assert 'cannot tell: more labels help' in text
    assert 'itself helped here' not in text and 'did **not** measurably help' not in text
    assert 'cannot be told' in text
    assert text.index('## Gates') < text.index('## Verdict')


def test_report_gives_a_verdict_when_the_gates_pass(tmp_path):
    csv = tmp_path / 'results.csv'
    rows = []
    for s in range(4):
        rows += [_row('random', 0.1, s, 60.0 + s), _row('random', 1.0, s, 78.0 + s),
                 _row('densecl', 0.1, s, 70.0 + s + 0.1 * s * s),
                 _row('densecl', 1.0, s, 79.0 + s),
                 _row('densecl_start', 0.1, s, 61.0 + s), _row('densecl_start', 1.0, s, 78.5)]
    _write(csv, rows)
    paths = write_report(str(csv), str(tmp_path), pretrainings={
        'densecl': dict(start_arm='densecl_start')},
        design={'train': dict(images=120, patients=30), 'val': dict(images=120, patients=30)})
    text = open(paths[0]).read()
    assert 'cannot tell:' not in text and '**FAIL**' not in text
    assert 'densecl pretraining itself helped here' in text
    assert 'Patients (images) per split: train 30 (120), val 30 (120)' in text
    assert '| detectable |' in text
    assert str(tmp_path / 'learning_curves.png') in paths


def test_learning_curve_plot(tmp_path):
    rows = [_row('random', f, s, 60.0, [[it, v + s] for it, v in FLAT])
            for f in (0.1, 1.0) for s in range(3)]
    rows.append(_row('densecl', 0.1, 0, 60.0, RISING))
    out = plot_learning_curves(rows, str(tmp_path / 'curves.png'), ['random', 'densecl'])
    assert out and os.path.getsize(out) > 5000
    from matplotlib.image import imread
    img = imread(out)
    assert img.shape[1] > img.shape[0]  # two panels side by side
    assert plot_learning_curves([dict(r, curve=[]) for r in rows], str(tmp_path / 'x.png'),
                                ['random']) is None
    # rows read back from results.csv plot the same way
    _write(tmp_path / 'r.csv', rows)
    assert plot_learning_curves(read_results(str(tmp_path / 'r.csv')),
                                str(tmp_path / 'c2.png'), ['random', 'densecl'])


def test_learning_curve_title_fits_one_panel(tmp_path, monkeypatch):
    """A study with one fraction (an interrupted one) has one narrow panel: its title must lie
    inside the figure, not be clipped at both edges."""
    from mmssl_us.study import report
    figs = []
    monkeypatch.setattr(report, 'atomic_savefig', lambda fig, path: figs.append(fig))
    for fracs in ((0.05,), (0.05, 0.2)):
        rows = [_row('random', f, s, 60.0, [[it, v + s] for it, v in FLAT])
                for f in fracs for s in range(2)]
        report.plot_learning_curves(rows, str(tmp_path / 'c.png'), ['random'])
        fig = figs[-1]
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        renderer = FigureCanvasAgg(fig).get_renderer()
        box = fig._suptitle.get_window_extent(renderer)
        width = fig.get_figwidth() * fig.dpi
        assert box.x0 >= 0 and box.x1 <= width, (fracs, box.x0, box.x1, width)


def test_one_seed_gives_no_verdict_on_pretraining(tmp_path):
    """One paired seed cannot be tested: the report must not conclude "did not help" from it
    (the 3D smoke study printed that verdict on one seed)."""
    csv = tmp_path / 'results.csv'
    _write(csv, [_row('random', 0.1, 0, 60.0), _row('random', 1.0, 0, 78.0),
                 _row('densecl', 0.1, 0, 59.0), _row('densecl', 1.0, 0, 79.0),
                 _row('densecl_start', 0.1, 0, 61.0), _row('densecl_start', 1.0, 0, 78.5)])
    paths = write_report(str(csv), str(tmp_path), pretrainings={
        'densecl': dict(start_arm='densecl_start')})
    text = open(paths[0]).read()
    assert 'did **not** measurably help' not in text and 'itself helped here' not in text
    assert 'whether densecl pretraining helped here **cannot be told**: 1 paired seed(s)' in text


def test_a_report_names_the_curve_it_was_given(tmp_path):
    """The 3D study's curve is nnU-Net's val pseudo-Dice per epoch: the gates, tables and plot
    say so instead of "val mIoU" and "iteration"."""
    csv = tmp_path / 'results.csv'
    rows = [dict(_row('random', f, s, 60.0 + 10 * f, [[e, 50.0 + e] for e in range(1, 9)]),
                 best_iter=7) for f in (0.4, 1.0) for s in range(2)]
    _write(csv, rows)
    paths = write_report(str(csv), str(tmp_path),
                         curve=dict(metric='val pseudo-Dice', step='epoch'))
    text = open(paths[0]).read()
    assert 'runs whose best val pseudo-Dice rose by < 1 points' in text
    assert '## Epoch selected on val (the checkpoint tested)' in text
    assert 'Epochs to reach 90% of the final val pseudo-Dice' in text
    assert 'smallest gap seen: 1 epochs' in text
    assert 'val mIoU' not in text and 'Iteration' not in text
    # the default stays mmseg's
    default = open(write_report(str(csv), str(tmp_path / 'd'))[0]).read()
    assert 'runs whose best val mIoU rose' in default and '## Iteration selected' in default
