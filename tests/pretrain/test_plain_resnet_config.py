"""configs/densecl/densecl_resnet50-plain_1xb32-coslr-200e_knee.py: DenseCL on the 7x7-stem
ResNet-50 (mmdet's backbone), otherwise r50_knee.py; pretrain_cfg_options shrinks it like the
others."""
import os.path as osp

import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

from mmssl_us.pretrain.config_utils import pretrain_cfg_options

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _load(name):
    return Config.fromfile(osp.join(ROOT, 'configs', 'densecl', name))


def test_plain_config_is_r50_knee_with_a_7x7_stem():
    plain, deep = _load('densecl_resnet50-plain_1xb32-coslr-200e_knee.py'), _load('r50_knee.py')
    assert plain.model.backbone.type == 'ResNet' and deep.model.backbone.type == 'ResNetV1c'
    plain_dict, deep_dict = plain.to_dict(), deep.to_dict()
    plain_dict['model']['backbone'].pop('type')
    deep_dict['model']['backbone'].pop('type')
    # its own work dir (issue 18: two models never share one), the backbone type: nothing else
    assert (plain_dict.pop('work_dir'), deep_dict.pop('work_dir')) == (
        'work_dirs/densecl/densecl_resnet50-plain_1xb32-coslr-200e_knee', 'work_dirs/r50_knee')
    assert plain_dict == deep_dict  # nothing else differs
    assert plain.default_hooks.plain_checkpoint.type == 'PlainCheckpointHook'


def test_shrunk_plain_config_builds_a_7x7_stem_densecl():
    cfg = _load('densecl_resnet50-plain_1xb32-coslr-200e_knee.py')
    options = pretrain_cfg_options(cfg, depth=18, view_size=48, batch_size=4, max_epochs=2,
                                   warmup_iters=3, num_workers=0)
    assert options['model.backbone.depth'] == 18 and options['model.neck.in_channels'] == 512
    assert options['custom_hooks.1.start_iters'] == 3
    cfg.merge_from_dict(options)
    from mmpretrain.models.backbones import ResNet, ResNetV1c
    from mmpretrain.registry import MODELS
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        model = MODELS.build(cfg.model).eval()
    assert type(model.backbone) is ResNet and not isinstance(model.backbone, ResNetV1c)
    keys = model.backbone.state_dict()
    assert 'conv1.weight' in keys and keys['conv1.weight'].shape == (64, 3, 7, 7)
    assert not any(k.startswith('stem.') for k in keys)
    with torch.no_grad():
        out = model.neck(model.backbone(torch.zeros(2, 3, 48, 48)))
    assert out[0].shape == (2, cfg.model.neck.out_channels)
