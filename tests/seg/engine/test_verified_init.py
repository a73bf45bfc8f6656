"""VerifiedPretrained: exact loads pass, any key or shape gap raises naming the keys."""
import pickle

import pytest
import torch
from mmengine.config import Config
from mmengine.model.weight_init import initialize
from mmengine.registry import DefaultScope
from mmseg.models.backbones import ResNetV1c
from mmseg.registry import MODELS

import mmssl_us.seg  # noqa: F401
from mmssl_us.seg.config_utils import seg_cfg_options
from mmssl_us.seg.engine import CheckpointKeyError


def _backbone():
    torch.manual_seed(0)
    return ResNetV1c(depth=18, dilations=(1, 1, 2, 4), strides=(1, 2, 1, 1),
                     contract_dilation=True)


def _randomised(model):
    with torch.no_grad():
        for t in model.state_dict().values():
            if t.dtype.is_floating_point:
                t.normal_()
    return model


@pytest.fixture
def ckpt(tmp_path):
    src = _randomised(_backbone())
    path = str(tmp_path / 'backbone.pth')
    # the layout of tools/model_converters/pretrain2seg.py: state_dict + plain meta
    torch.save({'state_dict': src.state_dict(), 'meta': {'depth': 18}}, path)
    return path, src.state_dict()


def _init(module, **cfg):
    initialize(module, dict(type='VerifiedPretrained', **cfg))


def test_exact_checkpoint_loads_everything(ckpt):
    path, ref = ckpt
    dst = _backbone()
    _init(dst, checkpoint=path)
    for key, value in dst.state_dict().items():
        assert torch.equal(value, ref[key]), key


def test_renamed_key_raises_naming_both(ckpt, tmp_path):
    path, ref = ckpt
    state = dict(ref)
    state['stem.0.conv.weight'] = state.pop('stem.0.weight')  # mmpretrain's stem name
    bad = str(tmp_path / 'renamed.pth')
    torch.save(state, bad)
    with pytest.raises(CheckpointKeyError,
                       match=r'1 missing: stem\.0\.weight; 1 unexpected: stem\.0\.conv\.weight'):
        _init(_backbone(), checkpoint=bad)


def test_missing_key_raises_unless_allowed(ckpt, tmp_path):
    path, ref = ckpt
    state = {k: v for k, v in ref.items() if not k.startswith('layer4.1.')}
    bad = str(tmp_path / 'partial.pth')
    torch.save(state, bad)
    with pytest.raises(CheckpointKeyError, match=r'missing: layer4\.1\.conv1\.weight'):
        _init(_backbone(), checkpoint=bad)
    dst = _backbone()
    _init(dst, checkpoint=bad, allowed_missing=['layer4.1.*'])
    assert torch.equal(dst.state_dict()['layer4.0.conv1.weight'], ref['layer4.0.conv1.weight'])


def test_shape_mismatch_raises(ckpt, tmp_path):
    _, ref = ckpt
    state = dict(ref)
    state['layer1.0.conv1.weight'] = torch.zeros(3, 3, 1, 1)
    bad = str(tmp_path / 'shape.pth')
    torch.save(state, bad)
    with pytest.raises(CheckpointKeyError, match=r'1 shape: layer1\.0\.conv1\.weight'):
        _init(_backbone(), checkpoint=bad)


def test_prefix_takes_backbone_of_whole_model(ckpt, tmp_path):
    _, ref = ckpt
    whole = {f'backbone.{k}': v for k, v in ref.items()}
    whole['decode_head.conv_seg.weight'] = torch.zeros(2, 8, 1, 1)
    path = str(tmp_path / 'whole.pth')
    torch.save({'state_dict': whole}, path)
    dst = _backbone()
    _init(dst, checkpoint=path, prefix='backbone.')
    assert torch.equal(dst.state_dict()['layer3.1.bn2.weight'], ref['layer3.1.bn2.weight'])
    with pytest.raises(CheckpointKeyError, match="no tensors with the prefix 'neck.'"):
        _init(_backbone(), checkpoint=path, prefix='neck.')


class _Hostile:
    def __reduce__(self):
        return (print, ('this must never run',))


def test_hostile_pickle_refused(tmp_path):
    path = str(tmp_path / 'hostile.pth')
    torch.save({'state_dict': {'x': _Hostile()}}, path)
    with pytest.raises((pickle.UnpicklingError, RuntimeError), match='hostile.pth|print'):
        _init(_backbone(), checkpoint=path)


def test_missing_checkpoint_says_how_to_make_it(tmp_path):
    with pytest.raises(FileNotFoundError, match='absent.pth not found.*pretrain2seg.py'):
        _init(_backbone(), checkpoint=str(tmp_path / 'absent.pth'))


def test_bad_arguments():
    with pytest.raises(ValueError, match="allowed_missing must be a list"):
        _init(_backbone(), checkpoint='x.pth', allowed_missing='fc.*')
    with pytest.raises(ValueError, match='checkpoint must be'):
        _init(_backbone(), checkpoint='')


def test_segmentor_init_weights_keeps_checkpoint(ckpt):
    """Through the densecl config: after init_weights the backbone equals the checkpoint."""
    path, ref = ckpt
    cfg = Config.fromfile('configs/fcn/fcn_r50-d8-densecl_1xb16-40k_knee-256x256.py')
    cfg.merge_from_dict(seg_cfg_options(cfg, depth=18, head_channels=8))
    cfg.model.backbone.init_cfg.checkpoint = path
    cfg.model.backbone.norm_cfg = dict(type='BN', requires_grad=True)
    with DefaultScope.overwrite_default_scope('mmseg'):
        model = MODELS.build(cfg.model)
    model.init_weights()
    for key, value in model.backbone.state_dict().items():
        assert torch.equal(value, ref[key]), key
