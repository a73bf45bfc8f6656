"""benchmarks/gpu_check.py: its --dry-run (the same code on CPU, tiny sizes) and its arithmetic.
No figure is checked, only that every part ran and that the estimates follow from the rates."""
import os
import os.path as osp
import subprocess
import sys

import pytest

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SCRIPT = osp.join(ROOT, 'benchmarks', 'gpu_check.py')
sys.path.insert(0, osp.join(ROOT, 'benchmarks'))


def _table(text):
    lines = [ln for ln in text.splitlines() if ln.startswith('| ') and not ln.startswith('| part')]
    return [[c.strip() for c in ln.strip('|').split('|')] for ln in lines]


@pytest.mark.slow
def test_dry_run_measures_every_part(tmp_path):
    env = dict(os.environ, OMP_NUM_THREADS='1', MKL_NUM_THREADS='1', CUDA_VISIBLE_DEVICES='')
    out = subprocess.run([sys.executable, SCRIPT, '--dry-run', '--workers', '1'],
                         capture_output=True, text=True, env=env, timeout=180, cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.splitlines()[0].startswith('gpu_check --dry-run')
    rows = _table(out.stdout)
    parts = [r[0] for r in rows]
    assert parts.count('DenseCL step') == 8  # 2 configs x fp32/AMP x channels_last off/on
    assert parts.count('data loader') == 2 and parts.count('FCN R50-D8 step') == 4
    assert parts.count('estimate') == 4  # DenseCL hours and FCN minutes, fp32 and AMP
    dense = [r for r in rows if r[0] == 'DenseCL step']
    assert {(r[1].split()[0], r[2].split()[0], r[3]) for r in dense} == {
        (c, p, cl) for c in ('ours', 'mmpretrain') for p in ('fp32', 'AMP')
        for cl in ('off', 'on')}
    for r in rows:
        assert 'skipped' not in r[7], r
        assert float(r[4]) > 0, r  # a measured (or derived) value in every row
    assert {r[5] for r in rows if r[0] == 'estimate'} == {'hours', 'minutes'}


def test_estimates_follow_from_the_rates():
    from gpu_check import EPOCHS, FCN_ITERS, POOL_IMAGES, estimate_rows
    rows = [dict(part='DenseCL step', config='ours r50_knee', precision='fp32',
                 channels_last=False, rate=100.0),
            dict(part='DenseCL step', config='ours r50_knee', precision='fp32',
                 channels_last=True, rate=120.0),
            dict(part='DenseCL step', config='mmpretrain', precision='fp32',
                 channels_last=True, rate=500.0),
            dict(part='data loader', config='ours (ultrasound augmentations)', rate=90.0),
            dict(part='FCN R50-D8 step', config='ours fcn', precision='fp32', rate=8.0)]
    est = {r['config'].split(',')[0]: r for r in estimate_rows(rows, batch=32)}
    images = POOL_IMAGES // 32 * 32 * EPOCHS
    # the loader (90 images/s) is slower than the best step of ours (120): it bounds the run
    assert est['DenseCL ours']['rate'] == pytest.approx(images / 90.0 / 3600)
    assert 'loader-bound' in est['DenseCL ours']['note']
    assert est['FCN ours']['rate'] == pytest.approx(FCN_ITERS / 8.0 / 60)


def test_without_a_gpu_the_full_check_says_so():
    from gpu_check import run
    with pytest.raises(SystemExit, match='has none.*--dry-run'):
        run(dry_run=False, device='cpu')


def test_a_spent_budget_skips_parts_but_prints_the_table():
    from gpu_check import format_table
    text = format_table([dict(part='FCN R50-D8 step', config='ours', precision='fp32',
                              channels_last=False, unit='iters/s',
                              note='skipped: over the time budget')])
    assert '| - | iters/s | - | skipped: over the time budget |' in text
