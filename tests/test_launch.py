"""mmssl_us.launch: the tools' argument parsers and the configs they build (in-process; the
tools' --help and subprocess runs are in tests/tools/)."""
import os.path as osp

import pytest

from mmssl_us.launch import build_test_cfg, build_train_cfg, main, test_parser, train_parser

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
TOY_CONFIG = osp.join(ROOT, 'tests', '_toy', 'toy_config.py')


@pytest.fixture(autouse=True)
def toy_on_path(monkeypatch):
    monkeypatch.syspath_prepend(osp.dirname(TOY_CONFIG))  # the config imports toy_model


def test_train_cfg_options(monkeypatch):
    monkeypatch.syspath_prepend(osp.dirname(TOY_CONFIG))  # the config imports toy_model
    cfg = build_train_cfg([TOY_CONFIG, '--resume', '--cfg-options', 'train_cfg.max_iters=3'])
    assert cfg.resume is True and cfg.load_from is None
    assert cfg.train_cfg.max_iters == 3
    # work_dirs/<config folder>/<config name>: configs of one name in two folders never collide
    assert cfg.work_dir == osp.join('work_dirs', '_toy', 'toy_config')
    cfg = build_train_cfg([TOY_CONFIG, '--amp', '--work-dir', '/tmp/x'])
    assert cfg.optim_wrapper.type == 'AmpOptimWrapper' and cfg.work_dir == '/tmp/x'


def test_unknown_top_level_cfg_option_is_refused(monkeypatch):
    """Issue 10, case 7: `modle.backbone.depth=50` was ignored in silence."""
    monkeypatch.syspath_prepend(osp.dirname(TOY_CONFIG))
    with pytest.raises(ValueError, match=r"'modle.backbone.depth'.*did you mean 'model'"):
        build_train_cfg([TOY_CONFIG, '--cfg-options', 'modle.backbone.depth=50'])
    # keys the runner reads without the config naming them stay allowed
    cfg = build_train_cfg([TOY_CONFIG, '--cfg-options', 'experiment_name=x', 'load_from=a.pth'])
    assert cfg.experiment_name == 'x' and cfg.load_from == 'a.pth'


def test_resume_values_and_the_switches_reach_the_driver(tmp_path):
    ckpt = tmp_path / 'iter_4.pth'
    ckpt.write_bytes(b'')
    cfg = build_train_cfg([TOY_CONFIG, '--resume', str(ckpt)])
    assert cfg.resume is True and cfg.load_from == str(ckpt)
    cfg = build_train_cfg([TOY_CONFIG, '--resume', 'auto', '--cfg-options', 'load_from=a.pth'])
    assert cfg.resume is True and cfg.load_from is None  # auto: the work dir's latest
    with pytest.raises(FileNotFoundError,
                       match=r'--resume checkpoint not found: .*absent\.pth'):
        build_train_cfg([TOY_CONFIG, '--resume', str(tmp_path / 'absent.pth')])
    # what the parser cannot act on itself travels to mmssl_us.train in the config
    cfg = build_train_cfg([TOY_CONFIG, '--partial-load', '--tensorboard'])
    assert cfg._partial_load is True and cfg._tensorboard is True and cfg.launcher == 'none'
    cfg = build_train_cfg([TOY_CONFIG])
    assert cfg._partial_load is False and cfg._tensorboard is False and not cfg.get('resume')


def test_amp_and_auto_scale_lr_are_checked_against_the_config():
    with pytest.raises(ValueError, match=r"--amp needs optim_wrapper\.type OptimWrapper, got "
                       r"'Foo'"):
        build_train_cfg([TOY_CONFIG, '--amp', '--cfg-options', 'optim_wrapper.type=Foo'])
    cfg = build_train_cfg([TOY_CONFIG, '--amp'])
    assert cfg.optim_wrapper.loss_scale == 'dynamic'
    with pytest.raises(ValueError, match=r'--auto-scale-lr needs auto_scale_lr=.*toy_config\.py'):
        build_train_cfg([TOY_CONFIG, '--auto-scale-lr'])
    cfg = build_train_cfg([TOY_CONFIG, '--auto-scale-lr', '--cfg-options',
                           'auto_scale_lr.base_batch_size=16'])
    assert cfg.auto_scale_lr.enable is True


def test_a_missing_config_or_checkpoint_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match=r'config file not found: .*nope\.py'):
        build_train_cfg([str(tmp_path / 'nope.py')])
    with pytest.raises(FileNotFoundError, match=r'checkpoint not found: .*k\.pth'):
        build_test_cfg([TOY_CONFIG, str(tmp_path / 'k.pth')])


def test_test_cfg_loads_the_checkpoint_into_a_work_dir_of_its_own(tmp_path):
    ckpt = tmp_path / 'k.pth'
    ckpt.write_bytes(b'')
    cfg, out = build_test_cfg([TOY_CONFIG, str(ckpt), '--out', str(tmp_path / 'm.json')])
    assert cfg.load_from == str(ckpt) and out == str(tmp_path / 'm.json')
    assert cfg.work_dir == osp.join('work_dirs', 'test', '_toy', 'toy_config')


def test_parsers_and_main_usage(capsys):
    assert train_parser().parse_args(['c.py', '--resume']).resume == 'auto'
    assert train_parser().parse_args(['c.py', '--local-rank', '3']).local_rank == 3
    assert test_parser().parse_args(['c.py', 'k.pth']).checkpoint == 'k.pth'
    assert main(['serve']) == 2
    assert "usage: python -m mmssl_us.launch {train,test} ... (got ['serve'])" in \
        capsys.readouterr().err
    assert main([]) == 2


def test_launch_holds_parsers_not_the_driver():
    """Issue 19: the training logic lives in mmssl_us.train (and the helpers where they belong);
    launch.py exports its parsers and the configs they build."""
    import mmssl_us.launch as launch
    assert set(launch.__all__) == {'train_parser', 'test_parser', 'build_train_cfg',
                                   'build_test_cfg', 'run_train', 'run_test', 'main'}
    for moved in ('train_from_cfg', 'strict_pretrained_inits', 'format_cfg_options',
                  'check_epoch_not_empty', '_prepare_cpu_distributed'):
        assert not hasattr(launch, moved), moved
