"""The study runner's plan, resume and progress logic, with fake fine-tuning runs."""
import os
import os.path as osp

import pytest
from _toy import fake_steps as fakes

from mmssl_us.study import runner as study_runner
from mmssl_us.study.results import read_results
from mmssl_us.study.runner import Progress, RunKey, format_duration, plan_runs


def test_plan_runs_order_and_validation():
    keys = plan_runs(['densecl', 'random'], [1.0, 0.05], [0, 1])
    assert len(keys) == 8
    assert keys[0] == RunKey('densecl', 0.05, 0) and keys[-1] == RunKey('random', 1.0, 1)
    with pytest.raises(ValueError, match='1.5'):
        plan_runs(['random'], [1.5], [0])
    with pytest.raises(ValueError, match='duplicate'):
        plan_runs(['random', 'random'], [1.0], [0])
    with pytest.raises(ValueError, match='seeds'):
        plan_runs(['random'], [1.0], [])


def test_progress_eta():
    lines = []
    p = Progress(total=4, done=1, printer=lines.append)
    p.begin(RunKey('random', 0.5, 0))
    assert 'run 2/4' in lines[-1] and 'ETA after the first run' in lines[-1]
    p.end(60.0)
    p.begin(RunKey('random', 0.5, 1))
    assert 'run 3/4' in lines[-1] and 'ETA 2m00s' in lines[-1]
    assert format_duration(3725) == '1h02m'
    # two runs at a time: each begun run gets its own number; the ETA halves
    lines.clear()
    p = Progress(total=4, done=0, printer=lines.append, jobs=2)
    p.begin(RunKey('random', 0.5, 0))
    p.begin(RunKey('random', 0.5, 1))
    p.end(60.0)
    p.begin(RunKey('random', 0.5, 2))
    assert [ln.split(':')[0] for ln in lines] == ['[study] run 1/4', '[study] run 2/4',
                                                  '[study] run 3/4']
    assert 'ETA 1m30s' in lines[-1]  # 3 runs left of 60 s, two at a time


class _Interrupted(Exception):
    """Stands for a study killed during a run."""


def _study_config(tmp_path, data_root):
    path = tmp_path / 'study.py'
    path.write_text(
        'study = dict(data_root=%r, inits=["densecl", "random"], fractions=[0.5, 1.0],\n'
        '             seeds=[0, 1, 2], baseline="random",\n'
        '             pretrain=dict(densecl=dict(config="unused.py")),\n'
        '             finetune=dict(config="unused.py"))\n' % str(data_root))
    return str(path)


@pytest.mark.slow
def test_run_study_resumes_and_restarts_half_written(tmp_path):
    data_root = tmp_path / 'data'
    data_root.mkdir()
    cfg = _study_config(tmp_path, data_root)
    work = str(tmp_path / 'study')
    calls = []
    interrupt = {'at': 5}

    fake_pretrain = fakes.fake_pretrain()

    def before(key, backbone, run_dir):
        calls.append(key)
        if len(calls) == interrupt['at']:
            interrupt['at'] = None
            raise _Interrupted  # the study is interrupted during run 5

    fake_finetune = fakes.fake_finetune(
        miou=lambda key, backbone: (60.0 if backbone is None else 65.0) + 10 * key.fraction +
        key.seed, curve=lambda m: [[10, m / 2], [20, m]], extra=lambda m: dict(mDice=m + 5),
        before=before)

    with pytest.raises(_Interrupted):
        study_runner.run_study(cfg, work, log=lambda s: None, finetune_fn=fake_finetune,
                               pretrain_fn=fake_pretrain)
    assert len(read_results(osp.join(work, 'results.csv'))) == 4
    half = osp.join(work, 'runs', calls[4].init, f'frac{calls[4].fraction:g}_seed{calls[4].seed}')
    assert osp.isdir(half)

    lines = []
    calls.clear()
    study_runner.run_study(cfg, work, log=lines.append, finetune_fn=fake_finetune,
                           pretrain_fn=fake_pretrain)
    assert len(calls) == 8, 'finished runs must be skipped, the others run'
    assert any('restarting a half-written run' in ln for ln in lines)
    assert any('run 5/12' in ln for ln in lines)
    rows = read_results(osp.join(work, 'results.csv'))
    assert len(rows) == 12
    assert sorted({(r['init'], float(r['fraction']), int(r['seed'])) for r in rows}) == sorted(
        {(k.init, k.fraction, k.seed) for k in plan_runs(['densecl', 'random'], [0.5, 1.0],
                                                         [0, 1, 2])})
    assert osp.isfile(osp.join(work, 'results.md'))


@pytest.mark.slow
def test_same_start_arm_is_added_and_reported(tmp_path):
    data_root = tmp_path / 'data'
    data_root.mkdir()
    cfg = _study_config(tmp_path, data_root)
    seen = {}
    change = {'layer1': dict(rel_l2=0.2, bn_scale=0.01, tensors=4),
              'all': dict(rel_l2=0.2, bn_scale=0.01, tensors=4)}

    fake_pretrain = fakes.fake_pretrain('trained.pth', start_backbone='start.pth',
                                        weight_change=change,
                                        probe=[dict(epoch=0, iter=0, mIoU=50.0)])

    fake_finetune = fakes.fake_finetune(
        miou=lambda key, backbone: {'random': 60.0, 'densecl': 70.0,
                                    'densecl_start': 64.0}[key.init] + key.seed ** 2,
        before=lambda key, backbone, run_dir: seen.update({key.init: backbone}))

    work = str(tmp_path / 'study')
    study_runner.run_study(cfg, work, log=lambda s: None, finetune_fn=fake_finetune,
                           pretrain_fn=fake_pretrain)
    assert seen == {'densecl': 'trained.pth', 'densecl_start': 'start.pth', 'random': None}
    rows = read_results(osp.join(work, 'results.csv'))
    assert len(rows) == 3 * 2 * 3
    md = open(osp.join(work, 'results.md'), encoding='utf-8').read()
    assert '| densecl | densecl_start | 0.5 | 3 | +6.00 |' in md
    assert 'vs its own untrained start (densecl_start): +6.00' in md
    assert '## How far pretraining moved the weights' in md
    assert osp.isfile(osp.join(work, 'probe_curves.png'))
    # the progress lines went to the study's own log too
    with open(osp.join(work, 'study.log'), encoding='utf-8') as f:
        assert '18 runs planned' in f.read()
    # --report-only: the report again from the finished runs, nothing trained
    os.remove(osp.join(work, 'results.md'))

    def no_training(*args, **kwargs):
        raise AssertionError('report-only must not train')

    study_runner.run_study(cfg, work, log=lambda s: None, finetune_fn=no_training,
                           pretrain_fn=no_training, report_only=True)
    again = open(osp.join(work, 'results.md'), encoding='utf-8').read()
    assert again.split('## Verdict')[0].split('\n', 3)[3] == md.split('## Verdict')[0].split(
        '\n', 3)[3]  # the same gates (the runs' file path line aside)
    assert '| densecl | densecl_start | 0.5 | 3 | +6.00 |' in again
    with pytest.raises(FileNotFoundError, match='nothing to report'):
        study_runner.run_study(cfg, str(tmp_path / 'empty'), log=lambda s: None,
                               report_only=True)


def test_a_misspelt_init_stops_before_any_work(tmp_path):
    data_root = tmp_path / 'data'
    data_root.mkdir()
    path = tmp_path / 'study.py'
    path.write_text(
        'study = dict(data_root=%r, inits=["densecl", "randon"], fractions=[0.5],\n'
        '             seeds=[0], pretrain=dict(densecl=dict(config="unused.py")),\n'
        '             finetune=dict(config="unused.py"))\n' % str(data_root))

    def never(*args, **kwargs):
        raise AssertionError('no pretraining may start')

    with pytest.raises(ValueError, match="'randon' .*did you mean 'random'"):
        study_runner.run_study(str(path), str(tmp_path / 'w'), log=lambda s: None,
                               finetune_fn=never, pretrain_fn=never)


@pytest.mark.slow
def test_a_row_without_its_metric_is_not_a_finished_run(tmp_path):
    """Issue 10, case 9: a hand-truncated results.csv row counted as finished."""
    data_root = tmp_path / 'data'
    data_root.mkdir()
    cfg = _study_config(tmp_path, data_root)
    work = tmp_path / 'study'
    work.mkdir()
    (work / 'results.csv').write_text('init,fraction,seed,mIoU\nrandom,0.5,0,\n')
    calls = []

    fake_finetune = fakes.fake_finetune(
        miou=lambda key, backbone: 50.0 + key.seed, curve=lambda m: [[10, 50.0]],
        before=lambda key, backbone, run_dir: calls.append((key.init, key.fraction, key.seed)))

    lines = []
    study_runner.run_study(cfg, str(work), log=lines.append, finetune_fn=fake_finetune,
                           pretrain_fn=fakes.fake_pretrain())
    assert ('random', 0.5, 0) in calls and len(calls) == 12
    assert any('1 row(s)' in ln and 'have no mIoU' in ln for ln in lines)
    rows = read_results(str(work / 'results.csv'))
    assert len(rows) == 12 and all(r['mIoU'] is not None for r in rows)


@pytest.mark.slow
def test_a_resume_with_other_settings_stops_naming_them(tmp_path):
    """Issue 10, case 6: a study re-run after its config changed reused the old runs."""
    data_root = tmp_path / 'data'
    data_root.mkdir()
    cfg = _study_config(tmp_path, data_root)
    work = str(tmp_path / 'study')

    run = dict(log=lambda s: None, finetune_fn=fakes.fake_finetune(),
               pretrain_fn=fakes.fake_pretrain())
    study_runner.run_study(cfg, work, **run)
    config_text = open(osp.join(work, 'study_config.py')).read()
    # more seeds: allowed (new runs only)
    text = open(cfg).read()
    with open(cfg, 'w') as f:
        f.write(text.replace('seeds=[0, 1, 2]', 'seeds=[0, 1, 2, 3]'))
    study_runner.run_study(cfg, work, **run)
    assert len(read_results(osp.join(work, 'results.csv'))) == 16
    # another fine-tuning config: refused, named, nothing overwritten
    with open(cfg, 'w') as f:
        f.write(text.replace('finetune=dict(config="unused.py")',
                             'finetune=dict(config="unused.py", shrink=dict(max_iters=9))'))
    with pytest.raises(ValueError, match=r"other settings .*finetune.shrink.max_iters: None -> 9"):
        study_runner.run_study(cfg, work, **run)
    # study_config.py still describes results.csv (the refused config was not written)
    assert 'max_iters' not in open(osp.join(work, 'study_config.py')).read()
    assert config_text  # the first run wrote it


@pytest.mark.slow
def test_each_run_carries_its_settings_and_a_foreign_run_is_refused(tmp_path):
    """Issue 10, case 6, per run: a run made under other settings is named even where the
    study's fingerprint file is gone (copied runs, a deleted file)."""
    data_root = tmp_path / 'data'
    data_root.mkdir()
    cfg = _study_config(tmp_path, data_root)
    work = str(tmp_path / 'study')

    run = dict(log=lambda s: None, finetune_fn=fakes.fake_finetune(),
               pretrain_fn=fakes.fake_pretrain())
    study_runner.run_study(cfg, work, **run)
    rows = read_results(osp.join(work, 'results.csv'))
    digests = {r['settings'] for r in rows}
    assert len(digests) == 1 and next(iter(digests)).startswith('sha256:')
    os.remove(osp.join(work, 'study_fingerprint.json'))
    text = open(cfg).read()
    with open(cfg, 'w') as f:
        f.write(text.replace('finetune=dict(config="unused.py")',
                             'finetune=dict(config="unused.py", shrink=dict(max_iters=9))'))
    with pytest.raises(ValueError, match=r'12 finished run\(s\) .* other settings'):
        study_runner.run_study(cfg, work, **run)


def test_a_pretraining_is_reused_only_under_its_settings(tmp_path):
    from mmssl_us.study.fingerprint import check_record
    path = str(tmp_path / 'settings.json')
    check_record(path, dict(spec=dict(shrink=dict(max_epochs=15)), data_root='d'), 'p')
    check_record(path, dict(spec=dict(shrink=dict(max_epochs=15)), data_root='d'), 'p')
    with pytest.raises(ValueError, match=r"pretraining 'densecl' .*spec.shrink.max_epochs: "
                                         r"15 -> 100"):
        check_record(path, dict(spec=dict(shrink=dict(max_epochs=100)), data_root='d'),
                     "the pretraining 'densecl'")


def test_a_config_edited_in_place_is_a_settings_change(tmp_path):
    """The study names its configs by path: editing one (another lr) changes what its runs
    compute, so the fingerprint carries each config's digest and a resume stops naming it."""
    from mmssl_us.study.fingerprint import check_fingerprint, record_fingerprint
    cfg = tmp_path / 'pre.py'
    cfg.write_text("optim_wrapper = dict(optimizer=dict(type='Adam', lr=0.001))\n")
    study = dict(data_root='d', pretrain=dict(genesis=dict(config=str(cfg))),
                 finetune=dict(config=str(tmp_path / 'missing.py')))
    record_fingerprint(str(tmp_path), study)
    check_fingerprint(str(tmp_path), study)  # unchanged: fine
    cfg.write_text("optim_wrapper = dict(optimizer=dict(type='Adam', lr=0.0001))\n")
    with pytest.raises(ValueError, match=r'pretrain\.genesis\.config_digest'):
        check_fingerprint(str(tmp_path), study)
    # a fingerprint written before digests were kept is not refused for lacking them
    import json
    path = tmp_path / 'study_fingerprint.json'
    old = json.loads(path.read_text())
    del old['pretrain']['genesis']['config_digest']
    path.write_text(json.dumps(old))
    check_fingerprint(str(tmp_path), study)


def _jobs_config(tmp_path, data_root, jobs):
    path = tmp_path / f'study_jobs{jobs}.py'
    path.write_text(
        'study = dict(data_root=%r, inits=["densecl", "random"], fractions=[0.5, 1.0],\n'
        '             seeds=[0, 1], baseline="random", jobs=%d,\n'
        '             pretrain=dict(densecl=dict(config="unused.py")),\n'
        '             finetune=dict(config="unused.py"))\n' % (str(data_root), jobs))
    return str(path)


def _by_run(rows):
    return {(r['init'], float(r['fraction']), int(r['seed'])): r for r in rows}


@pytest.mark.slow
def test_jobs_run_at_once_in_worker_processes_with_the_same_rows(tmp_path):
    import torch
    data_root = tmp_path / 'data'
    data_root.mkdir()
    rows = {}
    lines = {1: [], 2: []}
    for jobs in (1, 2):
        work = str(tmp_path / f'jobs{jobs}')
        study_runner.run_study(_jobs_config(tmp_path, data_root, jobs), work,
                               log=lines[jobs].append, finetune_fn=fakes.worker_finetune,
                               pretrain_fn=fakes.fake_pretrain())
        rows[jobs] = _by_run(read_results(osp.join(work, 'results.csv')))
    assert len(rows[1]) == len(rows[2]) == 8
    assert {k: r['mIoU'] for k, r in rows[1].items()} == {k: r['mIoU'] for k, r in rows[2].items()}
    # jobs=1: every run in this process, on all its threads
    assert {r['pid'] for r in rows[1].values()} == {os.getpid()}
    # jobs=2: in other processes, at most two, each on half the threads, two runs at a time
    pids = {r['pid'] for r in rows[2].values()}
    assert os.getpid() not in pids and 1 <= len(pids) <= 2, pids
    assert {r['threads'] for r in rows[2].values()} == {max(1, torch.get_num_threads() // 2)}
    spans = sorted((r['t_start'], r['t_end']) for r in rows[2].values())
    assert any(b[0] < a[1] for a, b in zip(spans, spans[1:])), 'no two runs overlapped'
    assert any('2 at a time' in ln for ln in lines[2])
    assert not any('at a time' in ln for ln in lines[1])
    # every run is counted once in the progress lines, whichever worker took it
    assert sorted(int(ln.split('run ')[1].split('/')[0]) for ln in lines[2]
                  if ln.startswith('[study] run ')) == list(range(1, 9))


@pytest.mark.slow
def test_a_failed_run_in_a_worker_keeps_the_runs_under_way_and_resumes(tmp_path):
    data_root = tmp_path / 'data'
    data_root.mkdir()
    work = str(tmp_path / 'study')
    # the 4th run fails; the run beside it is finished and recorded, no other starts
    (data_root / 'FAIL').write_text('random/frac0.5_seed1')
    cfg = _jobs_config(tmp_path, data_root, 2)
    lines = []
    with pytest.raises(RuntimeError, match='random/frac0.5_seed1 failed on purpose'):
        study_runner.run_study(cfg, work, log=lines.append, finetune_fn=fakes.worker_finetune,
                               pretrain_fn=fakes.fake_pretrain())
    assert any('random/frac0.5_seed1 failed' in ln and 'starting no other' in ln
               for ln in lines)
    finished = set(_by_run(read_results(osp.join(work, 'results.csv'))))
    assert ('random', 0.5, 1) not in finished
    # runs start in plan order, two at a time: the three before the failed one are done
    # and at most one after it (the one under way when it failed)
    assert {('densecl', 0.5, 0), ('random', 0.5, 0), ('densecl', 0.5, 1)} <= finished
    assert len(finished) <= 4, finished
    lines.clear()
    (data_root / 'FAIL').unlink()
    study_runner.run_study(cfg, work, log=lines.append,
                           finetune_fn=fakes.worker_finetune, pretrain_fn=fakes.fake_pretrain())
    assert len(read_results(osp.join(work, 'results.csv'))) == 8
    assert any('restarting a half-written run' in ln for ln in lines)  # the failed run's folder


def test_jobs_need_a_finetune_fn_a_worker_can_unpickle(tmp_path):
    data_root = tmp_path / 'data'
    data_root.mkdir()
    with pytest.raises(ValueError, match='module-level finetune_fn.*study.jobs=1'):
        study_runner.run_study(_jobs_config(tmp_path, data_root, 2), str(tmp_path / 'w'),
                               log=lambda s: None, finetune_fn=fakes.fake_finetune(),
                               pretrain_fn=fakes.fake_pretrain())


@pytest.mark.parametrize('jobs, error', [(0, ValueError), (1.5, TypeError),
                                          (True, TypeError)])
def test_bad_jobs_are_refused_before_any_work(tmp_path, jobs, error):
    from mmssl_us.study.cli import main
    cfg = _jobs_config(tmp_path, tmp_path / 'absent', 1)
    with pytest.raises(error, match=rf'study.jobs must be a positive int, got {jobs!r}'):
        main([cfg, '--work-dir', str(tmp_path / 'w')] +
             (['--jobs', str(jobs)] if jobs == 0 else ['--cfg-options', f'study.jobs={jobs}']))
    assert not osp.exists(tmp_path / 'w')


def test_jobs_are_refused_for_a_volume_study(tmp_path):
    from mmssl_us.study.cli import main
    root = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    with pytest.raises(ValueError, match='--jobs is for 2D studies'):
        main([osp.join(root, 'configs', 'study', 'volume_quickstart.py'), '--jobs', '2',
              '--work-dir', str(tmp_path / 'w')])
    assert not osp.exists(tmp_path / 'w')
