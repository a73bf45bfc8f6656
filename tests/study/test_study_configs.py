"""Every shipped study config is valid before any work: inits known, runs planned, the
pretraining config it would run carries the start-weights and probe hooks and parses back,
and the fine-tuning overrides merge."""
import glob
import os.path as osp

import pytest
from mmengine.config import Config

from mmssl_us.study.finetune import finetune_options
from mmssl_us.study.pretraining import pretrain_config
from mmssl_us.study.runner import check_inits, plan_runs

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
# configs/study/tune/ holds the protocol-tuning studies (README "The fine-tuning protocol")
ALL = sorted(glob.glob(osp.join(ROOT, 'configs', 'study', '**', '*.py'), recursive=True))
# a config holding a `volume` dict is the 3D study (mmssl_us/volume/study.py), checked by its own
# validator below; every other study config holds a `study` dict
VOLUMES = [p for p in ALL if 'volume' in Config.fromfile(p)]
STUDIES = [p for p in ALL if p not in VOLUMES]


def test_every_study_config_is_a_2d_or_a_3d_study():
    assert VOLUMES and STUDIES
    for path in ALL:
        cfg = Config.fromfile(path)
        assert ('study' in cfg) != ('volume' in cfg), path


@pytest.mark.parametrize('path', VOLUMES, ids=osp.basename)
def test_volume_study_config_is_valid(path):
    from mmssl_us.volume.study import check_volume_study
    volume = check_volume_study(Config.fromfile(path).volume.to_dict(), path)
    assert volume['ratios'] and volume['seeds']


@pytest.mark.parametrize('path', STUDIES, ids=lambda p: osp.relpath(p, osp.join(ROOT, 'configs', 'study')))
def test_study_config_is_valid(path, tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)  # study configs name their configs relative to the checkout
    study = Config.fromfile(path).study.to_dict()
    if study.get('folder') is not None:  # the folder study names its data on the command line
        assert study['data_root'] is None and study['classes'] is None
        study.update(data_root='some/view', classes=['background', 'a', 'b'])
        study['finetune'] = dict(study['finetune'], classes=study['classes'])
    check_inits(study)
    assert plan_runs(study['inits'], study['fractions'], study['seeds'])
    for name, spec in study.get('pretrain', {}).items():
        written = pretrain_config(name, spec, study, str(tmp_path))
        cfg = Config.fromfile(written, import_custom_modules=False)
        hooks = [h['type'] for h in cfg.custom_hooks]
        assert 'SaveStartWeightsHook' in hooks, path
        if study.get('probe'):
            probe = next(h for h in cfg.custom_hooks if h['type'] == 'DenseProbeHook')
            assert probe['data_root'] == study['data_root']
        assert cfg.train_dataloader.dataset.data_root == study['data_root']
    ft = Config.fromfile(study['finetune']['config'])
    ft.merge_from_dict(finetune_options(ft, study['finetune'], study['data_root']))
    assert ft.train_dataloader.dataset.data_root == study['data_root']
    if study.get('classes'):
        assert ft.model.decode_head.num_classes == len(study['classes'])
        assert list(ft.val_dataloader.dataset.metainfo['classes']) == study['classes']


def _tune(name):
    return Config.fromfile(osp.join(ROOT, 'configs', 'study', 'tune', name)).study.to_dict()


def test_each_tuning_study_differs_from_its_reference_in_one_setting():
    """The protocol was chosen by comparing these on val: each must change one thing only."""
    ref = _tune('quickstart_random_ce.py')
    assert ref['finetune']['shrink']['max_iters'] == 300
    assert ref['inits'] == ['random'] and ref['seeds'] == [0]
    longer = _tune('quickstart_random_ce600.py')
    assert longer['finetune']['shrink']['max_iters'] == 600
    dice = _tune('quickstart_random_dice.py')
    assert [d['type'] for d in dice['finetune']['cfg_options']['model.decode_head.loss_decode']] \
        == ['CrossEntropyLoss', 'DiceLoss']
    for other, changed in ((longer, {'max_iters', 'default_hooks.checkpoint.interval'}),
                           (dice, {'model.decode_head.loss_decode'})):
        flat_ref = dict(ref['finetune']['shrink'], **ref['finetune']['cfg_options'])
        flat = dict(other['finetune']['shrink'], **other['finetune']['cfg_options'])
        assert {k for k in flat_ref.keys() | flat.keys()
                if flat_ref.get(k) != flat.get(k)} == changed
        assert {k: v for k, v in other.items() if k != 'finetune'} == \
            {k: v for k, v in ref.items() if k != 'finetune'}
    # the protocol every shipped study uses is the longer schedule
    base = Config.fromfile(osp.join(ROOT, 'configs', '_base_', 'study', 'finetune_cpu.py'))
    assert base.study['finetune']['shrink']['max_iters'] == 600


def test_hc18_study_fine_tunes_as_its_tuning_run_did():
    """HC18's 3000 iterations were chosen on its val split by tune/hc18_random_3000.py: the
    study's fine-tuning must be exactly what that run measured, precision, data and split
    included."""
    tune = _tune('hc18_random_3000.py')
    study = Config.fromfile(osp.join(ROOT, 'configs', 'study', 'hc18_cpu.py')).study.to_dict()
    assert study['finetune'] == tune['finetune']
    assert study['finetune']['shrink']['max_iters'] == 3000
    assert study['finetune']['cfg_options']['optim_wrapper.type'] == 'CPUAutocastOptimWrapper'
    for key in ('data_root', 'convert', 'fractions', 'baseline'):
        assert study[key] == tune[key], key
    assert tune['inits'] == ['random'] and tune['seeds'] == [0, 1]


def test_hc18_tuning_runs_differ_in_their_length_and_precision_only():
    """tune/hc18_random_3000.py repeats tune/hc18_random_1500.py (float32) with the study's
    bfloat16 training and twice the iterations (the checkpoint interval follows the length)."""
    short, long = _tune('hc18_random_1500.py'), _tune('hc18_random_3000.py')
    ft, ref = long['finetune'], short['finetune']
    assert ft['shrink'].pop('max_iters') == 2 * ref['shrink'].pop('max_iters') == 3000
    assert ft['cfg_options'].pop('default_hooks.checkpoint.interval') == 3000
    ref['cfg_options'].pop('default_hooks.checkpoint.interval')
    assert ft['cfg_options'].pop('optim_wrapper.type') == 'CPUAutocastOptimWrapper'
    assert ft['cfg_options'].pop('optim_wrapper.dtype') == 'bfloat16'
    assert ft == ref
    for key in ('data_root', 'convert', 'fractions', 'baseline', 'inits'):
        assert short[key] == long[key], key
