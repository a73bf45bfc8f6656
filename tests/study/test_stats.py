"""Statistics of the study against closed-form values and scipy's reference tests."""
import math

import numpy as np
import pytest
from scipy import stats as sps

from mmssl_us.study.stats import (cell_stats, convergence_stats, iterations_to_fraction,
                                  paired_difference, summarise)


def _rows(init, fraction, values, seeds=None):
    seeds = range(len(values)) if seeds is None else seeds
    return [dict(init=init, fraction=fraction, seed=s, mIoU=v) for s, v in zip(seeds, values)]


def test_summarise_closed_form():
    s = summarise([70.0, 72.0, 74.0], 'densecl', 0.1)
    assert (s.n, s.mean, s.std) == (3, 72.0, 2.0)  # sd = sqrt((4 + 0 + 4) / 2)
    one = summarise([5.0])
    assert one.n == 1 and one.mean == 5.0 and one.std is None and 'n=1' in one.note


def test_cell_stats_groups_and_skips_missing():
    rows = _rows('densecl', 0.1, [70.0, 72.0, 74.0]) + _rows('random', 0.1, [60.0, 61.0])
    rows.append(dict(init='random', fraction=0.1, seed=9, mIoU=None))
    cells = {(c.init, c.fraction): c for c in cell_stats(rows)}
    assert cells[('densecl', 0.1)].mean == pytest.approx(72.0)
    assert cells[('random', 0.1)].n == 2
    assert cells[('random', 0.1)].std == pytest.approx(math.sqrt(0.5))


def test_duplicate_run_is_refused():
    rows = _rows('densecl', 0.1, [70.0, 71.0], seeds=[0, 0])
    with pytest.raises(ValueError, match=r"'densecl', 0.1, 0"):
        cell_stats(rows)


def test_paired_difference_closed_form_df2():
    # differences 1, 2, 3 -> mean 2, sd 1; t(0.975, 2) = 0.95 / sqrt(2 * 0.975 * 0.025) exactly
    rows = _rows('densecl', 0.05, [11.0, 22.0, 33.0]) + _rows('random', 0.05, [10.0, 20.0, 30.0])
    d = paired_difference(rows, 'densecl', 'random', 0.05)
    t975 = 0.95 / math.sqrt(2 * 0.975 * 0.025)
    assert t975 == pytest.approx(sps.t.ppf(0.975, 2))
    assert (d.n, d.seeds) == (3, (0, 1, 2))
    assert d.mean == pytest.approx(2.0) and d.std == pytest.approx(1.0)
    assert d.ci_low == pytest.approx(2.0 - t975 / math.sqrt(3))
    assert d.ci_high == pytest.approx(2.0 + t975 / math.sqrt(3))
    # two-sided p for Student's t with 2 df: 1 - t / sqrt(2 + t^2), t = 2 * sqrt(3)
    t = 2.0 * math.sqrt(3.0)
    assert d.p_ttest == pytest.approx(1.0 - t / math.sqrt(2.0 + t * t))
    assert d.p_wilcoxon is None and 'Wilcoxon not run' in d.note


def test_paired_difference_matches_on_seed_only():
    rows = (_rows('densecl', 0.1, [50.0, 52.0, 57.0], seeds=[0, 1, 2])
            + _rows('random', 0.1, [49.0, 50.0], seeds=[2, 1])
            + _rows('random', 0.2, [0.0], seeds=[0]))
    d = paired_difference(rows, 'densecl', 'random', 0.1)
    assert d.seeds == (1, 2) and d.mean == pytest.approx(((52 - 50) + (57 - 49)) / 2)


@pytest.mark.parametrize('n', [6, 9])
def test_paired_difference_against_scipy(n):
    rng = np.random.default_rng(n)
    base = rng.normal(60, 5, n)
    other = base + rng.normal(2, 1.5, n)
    rows = _rows('simclr', 0.2, other) + _rows('random', 0.2, base)
    d = paired_difference(rows, 'simclr', 'random', 0.2, confidence=0.9)
    diff = other - base
    assert d.p_ttest == pytest.approx(sps.ttest_rel(other, base).pvalue)
    assert d.p_wilcoxon == pytest.approx(sps.wilcoxon(diff).pvalue)
    half = sps.t.ppf(0.95, n - 1) * diff.std(ddof=1) / math.sqrt(n)
    assert (d.ci_low, d.ci_high) == pytest.approx((diff.mean() - half, diff.mean() + half))


def test_wilcoxon_exact_values():
    # all six differences positive: W- = 0, p = 2 / 2**6; one negative of rank 3: the subsets
    # of ranks 1..6 summing to <= 3 are {}, {1}, {2}, {3}, {1,2} -> p = 2 * 5 / 64
    for diffs, expected in (([1, 2, 3, 4, 5, 6], 2 / 64), ([1, 2, -3, 4, 5, 6], 10 / 64)):
        rows = _rows('a', 1.0, [100.0 + x for x in diffs]) + _rows('b', 1.0, [100.0] * 6)
        assert paired_difference(rows, 'a', 'b', 1.0).p_wilcoxon == pytest.approx(expected)


def test_small_and_degenerate_pairs_say_why():
    one = paired_difference(_rows('a', 0.1, [3.0]) + _rows('b', 0.1, [1.0]), 'a', 'b', 0.1)
    assert one.mean == 2.0 and one.ci_low is None and one.p_ttest is None and one.note
    none = paired_difference(_rows('a', 0.1, [3.0]), 'a', 'b', 0.1)
    assert none.n == 0 and none.mean is None and 'no seed' in none.note
    flat = paired_difference(_rows('a', 0.1, [3.0, 4.0]) + _rows('b', 0.1, [2.0, 3.0]),
                             'a', 'b', 0.1)
    assert flat.p_ttest is None and 't-test undefined' in flat.note
    assert flat.ci_low == pytest.approx(1.0) and flat.ci_high == pytest.approx(1.0)
    with pytest.raises(ValueError, match='1.5'):
        paired_difference([], 'a', 'b', 0.1, confidence=1.5)


def test_iterations_to_ninety_percent():
    # final 90 -> target 81: 80 at 300 is short, 85 at 400 reaches it
    assert iterations_to_fraction([[100, 10], [200, 50], [300, 80], [400, 85], [500, 90]]) == 400
    # equality counts, order of points does not matter; the final is the last iteration
    assert iterations_to_fraction([[300, 100.0], [100, 20.0], [200, 90.0]]) == 200
    assert iterations_to_fraction([[100, 95.0], [200, 40.0]]) == 100  # final 40, target 36
    assert iterations_to_fraction([]) is None
    with pytest.raises(ValueError, match='0'):
        iterations_to_fraction([[1, 1.0]], level=0)


def test_convergence_stats():
    rows = [dict(init='d', fraction=0.1, seed=0, curve=[[100, 50], [200, 100]]),
            dict(init='d', fraction=0.1, seed=1, curve=[[100, 95], [200, 100]]),
            dict(init='d', fraction=0.1, seed=2, curve=[]),
            dict(init='r', fraction=0.1, seed=0, curve=[[100, 10], [200, 20], [300, 30]])]
    out = {c.init: c for c in convergence_stats(rows)}
    assert (out['d'].n, out['d'].mean) == (2, 150.0)
    assert out['d'].std == pytest.approx(math.sqrt(5000.0))
    assert (out['r'].n, out['r'].mean, out['r'].std) == (1, 300.0, None)


def test_holm_against_a_hand_computed_example():
    from mmssl_us.study.stats import holm
    # sorted: 0.01 (x4 = 0.04), 0.02 (x3 = 0.06), 0.03 (x2 = 0.06), 0.5 (x1 = 0.5)
    assert holm([0.03, 0.5, 0.01, 0.02]) == pytest.approx([0.06, 0.5, 0.04, 0.06])
    # monotone step-down and capped at 1; None stays None and does not count
    assert holm([0.04, None, 0.045]) == pytest.approx([0.08, None, 0.08])
    assert holm([0.9, 0.8]) == [1.0, 1.0]
    assert holm([]) == []
    with pytest.raises(ValueError, match=r'\[0, 1\]'):
        holm([1.5])
