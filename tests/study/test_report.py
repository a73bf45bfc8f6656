"""results.csv reading/appending and the written report, on a synthetic results table."""
import csv
import math
import os

import numpy as np
import pytest
from scipy import stats as sps

from mmssl_us.study.report import write_report
from mmssl_us.study.results import append_row, read_results

# mIoU per (init, fraction) over seeds 0, 1, 2 (random has only two seeds at 0.5)
MIOU = {('random', 0.05): [40.0, 44.0, 42.0], ('random', 0.5): [70.0, 71.0],
        ('densecl', 0.05): [50.0, 51.0, 55.0], ('densecl', 0.5): [72.0, 74.0, 73.0]}


def _write_table(path):
    for (init, frac), values in MIOU.items():
        for seed, m in enumerate(values):
            curve = [[100, m * 0.5], [200, m * 0.95], [300, m]] if init == 'densecl' else \
                [[100, m * 0.5], [200, m * 0.8], [300, m]]
            append_row(str(path), {'init': init, 'fraction': frac, 'seed': seed, 'mIoU': m,
                                      'mDice': m + 10.0, 'IoU.background': 90.0 + seed,
                                      'IoU.recess': m - 20.0 - seed,
                                      'Dice.recess': m - 3.0 - seed, 'curve': curve,
                                      'work_dir': f'work/{init}_{frac}_{seed}'})


def test_append_and_read_round_trip(tmp_path):
    path = tmp_path / 'sub' / 'results.csv'
    append_row(str(path), dict(init='random', fraction=0.1, seed=0, mIoU=51.25))
    append_row(str(path), dict(init='densecl', fraction=0.1, seed=0, mIoU=60.5,
                               mDice=70.0, curve=[[50, 30.0], [100, 60.5]]))
    with open(path, newline='') as f:
        header = next(csv.reader(f))
    assert header == ['init', 'fraction', 'seed', 'mIoU', 'mDice', 'curve']
    rows = read_results(str(path))
    assert rows[0] == dict(init='random', fraction=0.1, seed=0, mIoU=51.25, mDice=None, curve=[],
                       work_dir=None)  # absent columns read as None
    assert rows[1]['curve'] == [[50, 30.0], [100, 60.5]] and rows[1]['mDice'] == 70.0
    with pytest.raises(ValueError, match='duplicate'):
        append_row(str(path), dict(init='random', fraction=0.1, seed=0, mIoU=1.0))
    with pytest.raises(ValueError, match='1.5'):
        append_row(str(path), dict(init='random', fraction=1.5, seed=1))
    assert len(read_results(str(path))) == 2
    # as the study runner writes it: curve already JSON text, extra columns
    append_row(str(path), dict(init='simclr', fraction=0.1, seed=0, mIoU=55.0,
                               curve='[[50, 20.0], [100, 55.0]]', seconds=12.5, note='ok'))
    rows = read_results(str(path))
    assert rows[2]['curve'] == [[50, 20.0], [100, 55.0]] and rows[2]['seconds'] == 12.5
    assert rows[2]['note'] == 'ok' and rows[0]['seconds'] is None
    with pytest.raises(ValueError, match='bad curve'):
        append_row(str(path), dict(init='simclr', fraction=0.1, seed=1, curve='[1, 2]'))


def test_failed_append_leaves_file_whole(tmp_path, monkeypatch):
    path = tmp_path / 'results.csv'
    append_row(str(path), dict(init='random', fraction=0.1, seed=0, mIoU=5.0))
    before = path.read_bytes()

    def boom(src, dst):
        raise OSError('disk gone')
    monkeypatch.setattr(os, 'replace', boom)
    with pytest.raises(OSError, match='disk gone'):
        append_row(str(path), dict(init='random', fraction=0.1, seed=1, mIoU=6.0))
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ['results.csv']  # the temporary was removed


def test_bad_files_name_file_and_value(tmp_path):
    assert read_results(str(tmp_path / 'nowhere.csv')) == []  # no run finished yet
    with pytest.raises(ValueError, match='nowhere.csv: no run'):
        write_report(str(tmp_path / 'nowhere.csv'), str(tmp_path / 'r'))
    bad = tmp_path / 'bad.csv'
    bad.write_text('init,fraction,seed,mIoU\nrandom,0.1,0,abc\n')
    with pytest.raises(ValueError, match=r"bad.csv line 2: bad mIoU value 'abc'"):
        read_results(str(bad))
    nocol = tmp_path / 'nocol.csv'
    nocol.write_text('init,fraction,mIoU\nrandom,0.1,3\n')
    with pytest.raises(ValueError, match=r"nocol.csv.*'seed'"):
        read_results(str(nocol))


def test_report_numbers_as_computed(tmp_path):
    path = tmp_path / 'results.csv'
    _write_table(path)
    out = write_report(str(path), str(tmp_path / 'report'))
    md = open(out[0], encoding='utf-8').read()
    for (init, frac), v in MIOU.items():
        v = np.asarray(v)
        assert f'{v.mean():.2f} ± {v.std(ddof=1):.2f} ({v.size})' in md
        assert f'{v.mean() + 10:.2f} ± {v.std(ddof=1):.2f} ({v.size})' in md  # mDice
    # paired at 0.05: differences 10, 7, 13 -> mean 10, sd 3
    half = sps.t.ppf(0.975, 2) * 3.0 / math.sqrt(3)
    p = sps.ttest_rel(MIOU[('densecl', 0.05)], MIOU[('random', 0.05)]).pvalue
    p2 = sps.ttest_rel([72.0, 74.0], [70.0, 71.0]).pvalue
    holm = [min(1, 2 * min(p, p2)), min(1, max(2 * min(p, p2), max(p, p2)))]
    holm_p = holm[0] if p <= p2 else holm[1]
    # the smallest difference detectable with 80% power: (t(.975, 2) + t(.8, 2)) * sd / sqrt(n)
    mdd = (sps.t.ppf(0.975, 2) + sps.t.ppf(0.8, 2)) * 3.0 / math.sqrt(3)
    assert (f'| densecl | random | 0.05 | 3 | +10.00 | [{10 - half:+.2f}, {10 + half:+.2f}] | '
            f'{mdd:.2f} | {p:.3g} | {holm_p:.3g} |') in md
    # paired at 0.5 over seeds 0 and 1 only: differences 2, 3
    assert '| densecl | random | 0.5 | 2 | +2.50 |' in md
    assert 'over the 2 comparisons' in md and 'Holm-adjusted' in md
    # 90% of the final: densecl reaches 0.95 * final at 200, random only at 300
    assert '| 0.05 | 300 ± 0 (3) | 200 ± 0 (3) |' in md
    assert '## IoU of class recess (%)' in md
    assert '## Dice of class recess (%)' in md  # beside the IoU: the echo papers' metric
    v = np.asarray(MIOU[('densecl', 0.05)]) - 3.0 - np.arange(3)
    assert f'{v.mean():.2f} ± {v.std(ddof=1):.2f} (3)' in md.split('## Dice of class recess')[1]
    assert 'Runs per cell: 2 to 3' in md
    assert f'mean ± {sps.t.ppf(0.975, 1) / math.sqrt(2):.2f} sd' in md  # n = 2 -> 8.98
    assert 'smallest gap seen: 100 iterations' in md
    png = out[1]
    with open(png, 'rb') as f:
        assert f.read(8) == b'\x89PNG\r\n\x1a\n'
    import matplotlib.image as mpimg
    img = mpimg.imread(png)
    assert img.shape[:2] == (504, 768) and img[..., :3].std() > 0.05  # not a blank canvas


def test_report_with_missing_columns_and_no_baseline(tmp_path):
    path = tmp_path / 'results.csv'
    path.write_text('init,fraction,seed,mIoU\nsimclr,0.1,0,30\nsimclr,0.1,1,\n')
    out = write_report(str(path), str(tmp_path / 'r'), baseline='random')
    md = open(out[0], encoding='utf-8').read()
    assert '| 0.1 | 30.00 (1) |' in md  # n=1: no sd shown
    assert "No run has init 'random'" in md and '## Verdict' not in md
    assert '1 run(s) have no mIoU' in md
    empty = tmp_path / 'empty.csv'
    empty.write_text('init,fraction,seed,mIoU\nsimclr,0.1,0,\n')
    with pytest.raises(ValueError, match='empty.csv'):
        write_report(str(empty), str(tmp_path / 'r2'))


def test_same_start_arm_verdict_weight_change_and_probe(tmp_path):
    """The same-start comparison, Holm over all comparisons, the plain verdict, the weight
    change warning and the probe section and plot."""
    path = tmp_path / 'results.csv'
    _write_table(path)
    # the untrained start scores like densecl at 0.05 (diffs +1, -2, +1): no pretraining effect
    for seed, m in enumerate([49.0, 53.0, 54.0]):
        append_row(str(path), dict(init='densecl_start', fraction=0.05, seed=seed, mIoU=m,
                                   curve=[[300, m]]))
    change = {'stem': dict(rel_l2=0.002, bn_scale=0.0001, tensors=3),
              'all': dict(rel_l2=0.004, bn_scale=0.0002, tensors=9)}
    probe = [dict(epoch=0, iter=0, mIoU=60.0), dict(epoch=5, iter=30, mIoU=66.5),
             dict(epoch=10, iter=60, mIoU=64.0)]
    out = write_report(str(path), str(tmp_path / 'r'), pretrainings={
        'densecl': dict(start_arm='densecl_start', weight_change=change, probe=probe)})
    md = open(out[0], encoding='utf-8').read()
    d = np.array([50.0, 51.0, 55.0]) - np.array([49.0, 53.0, 54.0])
    p_start = sps.ttest_rel([50.0, 51.0, 55.0], [49.0, 53.0, 54.0]).pvalue
    assert f'| densecl | densecl_start | 0.05 | 3 | {d.mean():+.2f} |' in md
    assert f'{p_start:.3g}' in md and 'over the 4 comparisons' in md  # + start vs random
    assert '| densecl | densecl_start | 0.5 |' not in md  # no start arm at 0.5: no row
    start = md.index('## Verdict')
    verdict = md[start:md.index('\n## ', start)]
    assert '**densecl** vs random init: +10.00' in verdict
    assert '**densecl** vs its own untrained start (densecl_start): +0.00' in verdict
    # these curves still rise in their last quarter (and the start arm's has one point): the
    # gate withholds the verdict
    assert 'cannot tell: not converged (densecl, densecl_start)' in verdict
    assert 'did **not** measurably help' not in verdict
    # the same runs on their plateau: the verdict is given
    flat = tmp_path / 'flat.csv'
    for row in read_results(str(path)):
        m = row['mIoU']
        append_row(str(flat), dict(row, curve=[[100, m - 5], [200, m - 0.5], [300, m]]))
    out_flat = write_report(str(flat), str(tmp_path / 'flat'), pretrainings={
        'densecl': dict(start_arm='densecl_start', weight_change=change, probe=probe)})
    text = open(out_flat[0], encoding='utf-8').read()
    assert 'did **not** measurably help' in text and 'cannot tell:' not in text
    assert '| densecl | 0.20 | 0.40 | 0.0002 |' in md
    assert 'Warning**: densecl moved its weights by 0.40%' in md
    assert '| densecl | 60.00 | 66.50 (5) | 64.00 (10) |' in md
    probe_png = [p for p in out if p.endswith('probe_curves.png')]
    assert len(probe_png) == 1 and out[2].endswith('learning_curves.png')
    with open(probe_png[0], 'rb') as f:
        assert f.read(8) == b'\x89PNG\r\n\x1a\n'
