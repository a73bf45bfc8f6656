"""benchmarks/bench_study_jobs.py runs end to end on a tiny study and prints its tables."""
import os.path as osp
import subprocess
import sys

import pytest

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


@pytest.mark.slow
def test_bench_study_jobs_prints_both_settings():
    out = subprocess.run(
        [sys.executable, osp.join(ROOT, 'benchmarks', 'bench_study_jobs.py'), '--runs', '2',
         '--iters', '2', '--val-interval', '1', '--patients', '4', '--size', '48', '--crop',
         '32'], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    lines = out.stdout.splitlines()
    assert any(ln.startswith('| jobs=1 (') for ln in lines), out.stdout[-2000:]
    assert any(ln.startswith('| jobs=2 (') for ln in lines), out.stdout[-2000:]
    assert any(ln.startswith('wall time, jobs=2 against jobs=1: ') for ln in lines)
    per_seed = lines[[i for i, ln in enumerate(lines) if ln.startswith('per seed')][-1]:]
    seeds = [ln.split(' | ')[0] for ln in per_seed if ln.startswith('| ') and ' / ' in ln]
    assert seeds == ['| 0', '| 1'], out.stdout[-2000:]
