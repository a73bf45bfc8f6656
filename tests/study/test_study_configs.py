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
STUDIES = sorted(glob.glob(osp.join(ROOT, 'configs', 'study', '*.py')))


@pytest.mark.parametrize('path', STUDIES, ids=osp.basename)
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
