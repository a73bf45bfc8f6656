"""Every level of a study dict is checked before any work (issue 18): unknown keys with a
did-you-mean, seeds and fractions like every other value, repeats refused; a finished run's
folder is never deleted."""
import inspect
import os
import os.path as osp

import pytest

from mmssl_us.study import runner as study_runner
from mmssl_us.study import spec as study_spec
from mmssl_us.study.results import read_results


def _write_study(tmp_path, **changes):
    study = dict(data_root=str(tmp_path / 'data'), inits=['densecl', 'random'],
                 fractions=[0.5, 1.0], seeds=[0, 1], baseline='random',
                 pretrain=dict(densecl=dict(config='unused.py')),
                 finetune=dict(config='unused.py'))
    study.update(changes)
    path = tmp_path / 'study.py'
    path.write_text(f'study = {study!r}\n')
    (tmp_path / 'data').mkdir(exist_ok=True)
    return str(path)


def _no_work(*args, **kwargs):
    raise AssertionError('no pretraining or fine-tuning may start')


def _run(cfg, work, cfg_options=None):
    return study_runner.run_study(cfg, work, log=lambda s: None, finetune_fn=_no_work,
                                  pretrain_fn=_no_work, cfg_options=cfg_options)


@pytest.mark.parametrize('changes, match', [
    (dict(pool=dict(splits=['train'], extras=['more'])), r"study.pool: unknown key 'extras' "
     r"\(did you mean 'extra'\?\)"),
    (dict(finetune=dict(config='unused.py', shrink=dict(max_iter=5))),
     r"study.finetune.shrink: unknown key 'max_iter' \(did you mean 'max_iters'\?\)"),
    (dict(pretrain=dict(densecl=dict(config='unused.py', shrnk=dict(depth=18)))),
     r"study.pretrain.densecl: unknown key 'shrnk' \(did you mean 'shrink'\?\)"),
    (dict(pretrain=dict(densecl=dict(config='u.py', shrink=dict(view_sise=96)))),
     r"unknown key 'view_sise' \(did you mean 'view_size'\?\)"),
    (dict(tsne=dict(max_image=4)), r"study.tsne: unknown key 'max_image'"),
    (dict(probe=dict(intervall=5)), r"study.probe: unknown key 'intervall'"),
    (dict(seeds=[1.7]), r'study.seeds\[0\] must be an int >= 0, got 1.7'),
    (dict(seeds=[True]), r'study.seeds\[0\] must be an int >= 0, got True'),
    (dict(fractions=[0.0, 1.0]), r'study.fractions\[0\] must be a number in \(0, 1\]'),
    (dict(fractions=['0.5']), r'study.fractions\[0\]'),
    (dict(seeds=[0, 0]), r'study.seeds lists 0 more than once'),
    (dict(fractions=[0.1, 0.10, 1.0]), r'study.fractions lists 0.1 more than once'),
    (dict(leakage='stopp'), r"study.leakage must be 'stop', 'warn' or 'off'"),
    (dict(leakage_near_bits=300), r'study.leakage_near_bits must be'),
    (dict(pool=dict(extra='/one/folder')), r'study.pool.extra must be a list'),
])
def test_a_bad_study_value_stops_before_any_work(tmp_path, changes, match):
    cfg = _write_study(tmp_path, **changes)
    work = str(tmp_path / 'work')
    with pytest.raises(ValueError, match=match) as info:
        _run(cfg, work)
    assert cfg in str(info.value)  # names the file
    assert not osp.exists(work)  # nothing was written


def test_a_typo_in_cfg_options_at_any_depth_is_refused(tmp_path):
    cfg = _write_study(tmp_path)
    with pytest.raises(ValueError, match=r"unknown key 'extras' \(did you mean 'extra'\?\)"):
        _run(cfg, str(tmp_path / 'work'), {'study.pool.extras': ['x']})
    with pytest.raises(ValueError, match=r"unknown key 'max_iter' \(did you mean"):
        _run(cfg, str(tmp_path / 'work'), {'study.finetune.shrink.max_iter': 3})
    with pytest.raises(ValueError, match=r'study.seeds lists 0 more than once'):
        _run(cfg, str(tmp_path / 'work'), {'study.seeds': [0, 0]})


def test_plan_runs_refuses_repeated_seeds_and_fractions():
    with pytest.raises(ValueError, match='more than once'):
        study_runner.plan_runs(['random'], [1.0], [0, 0])
    with pytest.raises(ValueError, match='more than once'):
        study_runner.plan_runs(['random'], [0.5, 0.5], [0])
    with pytest.raises(ValueError, match='must be an int'):
        study_runner.plan_runs(['random'], [0.5], [1.7])


@pytest.mark.slow
def test_a_finished_runs_folder_is_never_deleted(tmp_path, monkeypatch):
    """Even when a run is planned twice (the runner's own safety net), its folder stays."""
    cfg = _write_study(tmp_path, inits=['random'], fractions=[1.0], seeds=[0],
                       pretrain=dict())
    work = str(tmp_path / 'work')
    plan = study_runner.plan_runs

    def twice(inits, fractions, seeds):
        return plan(inits, fractions, seeds) * 2

    def finetune(key, spec, backbone, run_dir, data_root):
        os.makedirs(run_dir)
        with open(osp.join(run_dir, 'iter_1.pth'), 'w') as f:
            f.write('weights')
        return dict(init=key.init, fraction=key.fraction, seed=key.seed, mIoU=50.0,
                    mDice=60.0, curve='[]', work_dir=run_dir)

    monkeypatch.setattr(study_runner, 'plan_runs', twice)
    with pytest.raises(RuntimeError, match='belongs to a finished run.*not deleting it'):
        study_runner.run_study(cfg, work, log=lambda s: None, finetune_fn=finetune,
                               pretrain_fn=_no_work)
    assert osp.isfile(osp.join(work, 'runs', 'random', 'frac1_seed0', 'iter_1.pth'))
    assert len(read_results(osp.join(work, 'results.csv'))) == 1


def _params(fn, drop=('cfg', )):
    return {p for p in inspect.signature(fn).parameters if p not in drop}


def test_the_schema_follows_the_functions_it_feeds():
    from mmssl_us.data import converters
    from mmssl_us.data.layout import prepare_folder
    from mmssl_us.pretrain.config_utils import pretrain_cfg_options
    from mmssl_us.pretrain.hooks.dense_probe import DenseProbeHook
    from mmssl_us.seg.config_utils import seg_cfg_options
    from mmssl_us.study.data import CONVERTERS
    from mmssl_us.synthetic.cli import build_parser
    assert set(study_spec.FINETUNE_SHRINK) == _params(seg_cfg_options)
    assert set(study_spec.PRETRAIN_SHRINK) == _params(pretrain_cfg_options)
    assert set(study_spec.PROBE) == _params(DenseProbeHook.__init__, ('self', 'data_root'))
    assert set(study_spec.STUDY_SPEC['folder']) == _params(prepare_folder,
                                                           ('src', 'dst', 'log'))
    conv = set().union(*(_params(getattr(converters, f), ('src', 'out'))
                         for f in CONVERTERS.values()))
    assert set(study_spec.STUDY_SPEC['convert']) == conv | {'dataset', 'src'}
    flags = {a.dest for a in build_parser()._actions
             if a.option_strings and a.nargs != 0 and a.dest not in ('out', 'help')}
    # 'out': where the echo mode writes the EchoNet-format source that `convert` reads
    assert set(study_spec.STUDY_SPEC['synthetic']) == (flags - {'progress_every'}) | {'out'}
