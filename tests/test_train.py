"""mmssl_us.train, the one training driver, on the toy regressor (a few iterations, in-process):
the resume check compares keys and shapes before the runner fails, load_from must fit, stale
temporaries go, the work dir is claimed."""
import os.path as osp

import pytest
from mmengine.config import Config

from mmssl_us.train import build_runner, resume_checkpoint, train

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
TOY_CONFIG = osp.join(ROOT, 'tests', '_toy', 'toy_config.py')


@pytest.fixture(autouse=True)
def toy_on_path(monkeypatch):
    monkeypatch.syspath_prepend(osp.dirname(TOY_CONFIG))  # the config imports toy_model


def _cfg(work_dir, iters=4, **model):
    cfg = Config.fromfile(TOY_CONFIG)
    cfg.work_dir = str(work_dir)
    cfg.train_cfg.max_iters = iters
    cfg.param_scheduler[0].update(T_max=iters, end=iters)
    cfg.log_level = 'WARNING'
    cfg.model.update(model)
    return cfg


def test_a_resume_of_another_shape_is_named_before_training(tmp_path):
    runner = train(_cfg(tmp_path))
    assert runner.iter == 4 and osp.isfile(tmp_path / 'iter_4.pth')
    assert osp.isfile(tmp_path / 'run.json')  # claimed for the toy model
    wider = _cfg(tmp_path, iters=8, features=8)
    wider.resume = True
    assert resume_checkpoint(wider) == str(tmp_path / 'iter_4.pth')
    with pytest.raises(ValueError, match=r'cannot resume in .*iter_4\.pth was written by a model '
                       r'of another shape .*linear\.weight.*Did the depth'):
        build_runner(wider)
    same = _cfg(tmp_path, iters=8)
    same.resume = True
    assert train(same).iter == 8  # the same model resumes


def test_resume_in_an_empty_work_dir_starts_afresh(tmp_path):
    cfg = _cfg(tmp_path / 'new', iters=2)
    cfg.resume = True
    assert resume_checkpoint(cfg) is None
    assert train(cfg).iter == 2


def test_load_from_must_fit_unless_partial(tmp_path):
    train(_cfg(tmp_path / 'a'))
    cfg = _cfg(tmp_path / 'b', features=8)
    cfg.load_from = str(tmp_path / 'a' / 'iter_4.pth')
    with pytest.raises(ValueError, match=r'iter_4\.pth does not fit the model of this config.*'
                       r'--partial-load'):
        build_runner(cfg)
    cfg = _cfg(tmp_path / 'c')
    cfg.load_from = str(tmp_path / 'a' / 'iter_4.pth')
    cfg._partial_load = False
    build_runner(cfg)  # fits


def test_a_stale_temporary_of_a_dead_writer_is_removed(tmp_path, capsys):
    # the name atomic_open gives, with the pid of a process that no longer runs
    stale = tmp_path / '.iter_4.pth.999999999.abc.tmp'
    stale.write_bytes(b'half')
    build_runner(_cfg(tmp_path, iters=1))
    assert not stale.exists()
    assert 'removed a stale temporary file of a killed run' in capsys.readouterr().out
