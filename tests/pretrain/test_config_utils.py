"""pretrain_cfg_options finds the keys by type in every pretraining config, and the quickstart's
pretraining config is the same as with its former hand-typed options."""
import copy
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from mmssl_us.pretrain.config_utils import pretrain_cfg_options, pretrain_options

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = dict(densecl='configs/densecl/r50_knee.py',
               mocov2='configs/mocov2/mocov2_resnet50_1xb32-coslr-200e_knee.py',
               simclr='configs/simclr/simclr_resnet50_1xb32-coslr-200e_knee.py',
               byol='configs/byol/byol_resnet50_1xb32-coslr-200e_knee.py')
CROPS = ('SectorRandomResizedCrop', 'RandomResizedCrop')


def _load(name):
    return Config.fromfile(osp.join(ROOT, CONFIGS[name]))


def _crops(node):
    """Every crop transform of a pipeline, however deeply nested."""
    if isinstance(node, (list, tuple)):
        return [c for item in node for c in _crops(item)]
    if isinstance(node, dict):
        found = [node] if node.get('type') in CROPS else []
        return found + _crops(node.get('transforms', []))
    return []


@pytest.mark.parametrize('name', sorted(CONFIGS))
def test_options_merge_and_set_what_they_say(name):
    cfg = _load(name)
    n_crops = len(_crops(cfg.train_dataloader.dataset.pipeline))
    old_neck, old_scheds = copy.deepcopy(cfg.model.neck), copy.deepcopy(cfg.param_scheduler)
    assert n_crops >= 1
    options = pretrain_cfg_options(cfg, depth=18, view_size=48, batch_size=8, max_epochs=20,
                                   num_workers=0, seed=3)
    cfg.merge_from_dict(options)
    assert cfg.model.backbone.depth == 18 and cfg.model.neck.in_channels == 512
    # hidden width follows the input where mmpretrain ties them; BYOL's 4096 stays
    expected_hid = 4096 if name == 'byol' else 512
    assert old_neck.hid_channels == (4096 if name == 'byol' else 2048)
    assert cfg.model.neck.hid_channels == expected_hid
    crops = _crops(cfg.train_dataloader.dataset.pipeline)
    assert len(crops) == n_crops and all(c.scale == 48 for c in crops)
    loader = cfg.train_dataloader
    assert (loader.batch_size, loader.num_workers, loader.persistent_workers) == (8, 0, False)
    assert cfg.train_cfg.max_epochs == 20 and cfg.randomness.seed == 3
    for old, new in zip(old_scheds, cfg.param_scheduler):
        if old.type == 'CosineAnnealingLR':
            assert new.end == 20 and new.T_max == 20 - old.begin
        else:  # the LARS configs' 10-epoch warm-up is kept
            assert new == old and new.end == 10
    # the widths fit: the shrunk backbone feeds the neck
    from mmpretrain.registry import MODELS
    from mmengine.registry import DefaultScope
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        model = MODELS.build(cfg.model).eval()
    with torch.no_grad():
        out = model.neck(model.backbone(torch.zeros(2, 3, 48, 48)))
    assert out[0].shape[0] == 2


def test_densecl_keys_are_found_at_their_positions():
    cfg = _load('densecl')
    options = pretrain_cfg_options(cfg, view_size=96, warmup_iters=4, max_epochs=3)
    assert options == {
        'train_dataloader.dataset.pipeline.1.transforms.0.0.scale': 96,
        'custom_hooks.1.start_iters': 4,
        'train_cfg.max_epochs': 3,
        'param_scheduler.0.end': 3,
        'param_scheduler.0.T_max': 3,
    }
    cfg.merge_from_dict(options)
    hook = [h for h in cfg.custom_hooks if h.type == 'DenseCLHook']
    assert len(hook) == 1 and hook[0].start_iters == 4


@pytest.mark.parametrize('name', ['mocov2', 'simclr', 'byol'])
def test_warmup_needs_the_densecl_hook(name):
    with pytest.raises(ValueError, match='custom_hooks has no DenseCLHook'):
        pretrain_cfg_options(_load(name), warmup_iters=4)


def test_errors_name_what_is_wrong():
    cfg = _load('simclr')
    with pytest.raises(ValueError, match=r'LinearLR \(param_scheduler.0\) ends at epoch 10'):
        pretrain_cfg_options(cfg, max_epochs=5)
    with pytest.raises(ValueError, match='depth must be 18, 34, 50, 101 or 152, got 20'):
        pretrain_cfg_options(cfg, depth=20)
    with pytest.raises(ValueError, match='batch_size must be a positive int, got 0'):
        pretrain_cfg_options(cfg, batch_size=0)
    cfg.train_dataloader.dataset.pipeline = [dict(type='LoadUltrasoundFrame'),
                                             dict(type='PackInputs')]
    with pytest.raises(ValueError, match='has no random-resized crop'):
        pretrain_cfg_options(cfg, view_size=64)
    cfg.model.neck.type = 'LinearNeck'
    with pytest.raises(ValueError, match='neck LinearNeck'):
        pretrain_cfg_options(cfg, depth=18)


# configs/study/quickstart.py's pretraining, written out by list position as before `shrink`
# existed (the recipe itself was changed for issue 9: batch 32, lr 0.05, 15 epochs)
OLD_QUICKSTART = {
    'data_root': 'data/knee',
    'train_dataloader.dataset.data_root': 'data/knee',
    'model.backbone.depth': 18,
    'model.neck.in_channels': 512,
    'model.neck.hid_channels': 512,
    'train_dataloader.batch_size': 32,
    'train_dataloader.num_workers': 2,
    'train_dataloader.dataset.pipeline.1.transforms.0.0.scale': 96,
    'train_cfg.max_epochs': 15,
    'param_scheduler.0.T_max': 15,
    'param_scheduler.0.end': 15,
    'custom_hooks.1.start_iters': 8,
    'optim_wrapper.optimizer.lr': 0.05,
    'default_hooks.logger.interval': 6,
    'default_hooks.checkpoint.interval': 5,
}


def test_quickstart_pretraining_config_as_written_out(monkeypatch):
    monkeypatch.chdir(ROOT)  # the study's config paths are relative to the repository
    spec = Config.fromfile('configs/study/quickstart.py').study.pretrain.densecl.to_dict()
    assert 'shrink' in spec and not any(c.isdigit() for k in spec['cfg_options'] for c in k)
    old, new = _load('densecl'), _load('densecl')
    old.merge_from_dict(OLD_QUICKSTART)
    new.merge_from_dict(pretrain_options(spec))
    assert new.to_dict() == old.to_dict()


def test_pretrain_options_order(tmp_path):
    spec = dict(config=osp.join(ROOT, CONFIGS['densecl']), shrink=dict(batch_size=4),
                cfg_options={'train_dataloader.batch_size': 2, 'data_root': 'mine'})
    options = pretrain_options(spec, data_root='study/root')
    assert options['train_dataloader.batch_size'] == 2  # cfg_options last
    assert options['data_root'] == 'mine'
    assert options['train_dataloader.dataset.data_root'] == 'study/root'
    # without shrink the config is not even read
    assert pretrain_options(dict(config=str(tmp_path / 'absent.py'))) == {}
