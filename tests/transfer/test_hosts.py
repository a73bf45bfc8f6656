"""--target mmseg | mmdet | mmpretrain, for DenseCL checkpoints of both stems: the written file
fits the host's backbone built from its meta (0 missing, 0 unexpected, every tensor equal after
``init_weights`` through ``VerifiedPretrained``, outputs equal to the pretrained network), a
backbone that cannot fit is refused before anything is written, and ``VerifiedPretrained``
fails loudly, naming the setting that fits, in every host."""
import os.path as osp

import pytest
import torch
from mmengine.registry import DefaultScope

from mmssl_us.transfer import convert_checkpoint, main
from mmssl_us.transfer.init import CheckpointKeyError

STEMS = dict(deep='ResNetV1c', plain='ResNet')


def _registry(host):
    if host == 'mmdet':
        pytest.importorskip('mmdet')
        import mmdet.models  # noqa: F401
        from mmdet.registry import MODELS
    elif host == 'mmseg':
        import mmseg.models  # noqa: F401
        from mmseg.registry import MODELS
    else:
        import mmpretrain.models  # noqa: F401
        from mmpretrain.registry import MODELS
    return MODELS


def _build(host, cfg):
    with DefaultScope.overwrite_default_scope(host):
        return _registry(host).build(cfg)


@pytest.fixture(params=sorted(STEMS))
def pretrained(request, tmp_path, build_model):
    """(stem, path of a DenseCL R18 checkpoint saved as the Runner does, the model)."""
    torch.manual_seed(0)
    model = build_model(backbone=dict(type=STEMS[request.param], depth=18, out_indices=(3, ),
                                      norm_cfg=dict(type='BN')))
    with torch.no_grad():  # trained-looking BN statistics, and a key encoder that differs
        for name, t in model.backbone.state_dict().items():
            if t.dtype.is_floating_point:
                t.copy_(torch.randn_like(t) * 0.1 + (1.0 if name.endswith('var') else 0.0)).abs_()
        for p in model.encoder_k.parameters():
            p.add_(1.0)
    path = str(tmp_path / f'{request.param}.pth')
    torch.save(dict(meta=dict(epoch=2, iter=20), state_dict=model.state_dict()), path)
    return request.param, path, model


def _cfg_from_meta(meta, checkpoint):
    """The backbone config a user copies from the meta, with our verified loader."""
    cfg = eval(meta['backbone'], {'dict': dict})  # noqa: S307 - our own "dict(type=..., ...)"
    cfg.update(out_indices=(0, 1, 2, 3),
               init_cfg=dict(type='VerifiedPretrained', checkpoint=checkpoint))
    return cfg


EXPECTED = {  # (host, stem) -> the backbone that fits
    ('mmseg', 'deep'): "dict(type='ResNetV1c', depth=18)",
    ('mmseg', 'plain'): "dict(type='ResNet', depth=18)",
    ('mmdet', 'deep'): "dict(type='ResNet', depth=18, deep_stem=True)",
    ('mmdet', 'plain'): "dict(type='ResNet', depth=18)",
    ('mmpretrain', 'deep'): "dict(type='ResNetV1c', depth=18)",
    ('mmpretrain', 'plain'): "dict(type='ResNet', depth=18)",
}


@pytest.mark.parametrize('host', ['mmseg', 'mmdet', 'mmpretrain'])
def test_target_host_loads_exactly(host, pretrained, tmp_path):
    stem, src, model = pretrained
    _registry(host)
    dst = str(tmp_path / f'backbone_{host}.pth')
    state, meta = convert_checkpoint(src, dst, target=host, verify=True)
    assert (meta['target'], meta['backbone']) == (host, EXPECTED[host, stem])
    assert meta['deep_stem'] == (stem == 'deep') and meta['adapter'].startswith('resnet')
    assert meta['verified'].startswith(f'loads into {host} ')
    assert '0 missing, 0 unexpected, all tensors equal; 4 outputs equal' in meta['verified']
    # mmpretrain keeps the pretraining's names; mmseg and mmdet use Sequential stem names
    online = model.backbone.state_dict()
    if host == 'mmpretrain':
        assert list(state) == list(online)
    elif stem == 'deep':
        assert 'stem.0.weight' in state and 'stem.0.conv.weight' not in state
    assert torch.serialization.get_unsafe_globals_in_checkpoint(dst) == []

    # the host backbone as a user writes it from the meta, initialised through the registry
    backbone = _build(host, _cfg_from_meta(meta, dst))
    backbone.init_weights()
    own = backbone.state_dict()
    assert set(own) == set(state)
    for key, value in state.items():
        assert torch.equal(own[key], value), key  # nothing re-initialised after the load
    x = torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(1))
    model.backbone.out_indices = (0, 1, 2, 3)
    model.eval(), backbone.eval()
    with torch.no_grad():
        for a, b in zip(model.backbone(x), backbone(x)):
            assert torch.equal(a, b)


def test_mmpretrain_init_steps_would_overwrite_without_the_guard(pretrained, tmp_path):
    """Why VerifiedPretrained switches zero_init_residual off: mmpretrain's ResNet zeroes the
    last norm of each block after any initializer whose type is not 'Pretrained'."""
    stem, src, _ = pretrained
    dst = str(tmp_path / 'b.pth')
    state, meta = convert_checkpoint(src, dst, target='mmpretrain')
    from mmssl_us.transfer import init as init_mod
    guard = init_mod._keep_loaded_weights
    try:
        init_mod._keep_loaded_weights = lambda module: ''
        backbone = _build('mmpretrain', _cfg_from_meta(meta, dst))
        backbone.init_weights()
    finally:
        init_mod._keep_loaded_weights = guard
    own = backbone.state_dict()
    differ = [k for k, v in state.items() if not torch.equal(own[k], v)]
    assert differ and all('.bn2.' in k for k in differ)  # BasicBlock.norm2, zeroed


@pytest.mark.parametrize('host, request_, message', [
    ('mmdet', 'ResNet', r'has a 7x7 stem but the checkpoint a deep stem .* Set deep_stem=True, '
     r"i\.e\. use mmdet dict\(type='ResNet', depth=18, deep_stem=True\)"
     r".*densecl_resnet50-plain_1xb32-coslr-200e_knee"),
    ('mmdet', 'ResNet(deep_stem=False)', r'Set deep_stem=True'),
    ('mmdet', 'ResNetV1c', r"mmdet has no ResNetV1c: .* fit mmdet dict\(type='ResNet', "
     r'depth=18, deep_stem=True\)'),
    ('mmdet', 'ResNetV1d', r'avg_down=True, as ResNetV1d.*deep_stem=True'),
    ('mmseg', 'ResNet', r"Set deep_stem=True \(or ResNetV1c\), i\.e\. use mmseg "
     r"dict\(type='ResNetV1c', depth=18\)"),
    ('mmpretrain', 'ResNetV1c(depth=50)', r'is a ResNet-18'),
    ('mmpretrain', 'ResNetV1c(foo=1)', r'not foo'),
    ('mmseg', 'ViT', r'not a ResNet class of mmseg'),
])
def test_backbone_that_cannot_fit_is_refused(host, request_, message, tmp_path, build_model):
    model = build_model()  # ResNetV1c-18: a deep stem
    src = str(tmp_path / 'deep.pth')
    torch.save({'state_dict': model.state_dict()}, src)
    dst = str(tmp_path / 'out.pth')
    with pytest.raises(ValueError, match=message):
        convert_checkpoint(src, dst, target=host, backbone=request_)
    assert not osp.exists(dst)
    assert main([src, dst, '--target', host, '--backbone', request_]) == 2
    assert not osp.exists(dst)
    # what fits is accepted
    fits = {'mmdet': 'ResNet(deep_stem=True)', 'mmseg': 'ResNetV1c',
            'mmpretrain': 'ResNetV1c'}[host]
    assert main([src, dst, '--target', host, '--backbone', fits]) == 0


def test_plain_stem_refuses_a_deep_stem_backbone(tmp_path, build_model):
    model = build_model(backbone=dict(type='ResNet', depth=18, out_indices=(3, ),
                                      norm_cfg=dict(type='BN')))
    src = str(tmp_path / 'plain.pth')
    torch.save({'state_dict': model.state_dict()}, src)
    for host, request_ in [('mmdet', 'ResNet(deep_stem=True)'), ('mmseg', 'ResNetV1c'),
                           ('mmpretrain', 'ResNetV1c')]:
        with pytest.raises(ValueError, match=r"a 7x7 stem: .* Set deep_stem=False, i\.e\. use "
                           rf"{host} dict\(type='ResNet', depth=18\)$"):
            convert_checkpoint(src, str(tmp_path / 'o.pth'), target=host, backbone=request_)
    assert not osp.exists(tmp_path / 'o.pth')


def test_cli_target_default_names_and_output(tmp_path, build_model, capsys):
    model = build_model()
    src = tmp_path / 'epoch_1.pth'
    torch.save({'state_dict': model.state_dict(), 'meta': {'epoch': 1}}, src)
    assert main([str(src), '--target', 'mmpretrain']) == 0
    out = capsys.readouterr().out
    assert f"-> {tmp_path}/backbone_mmpretrain.pth: 132 backbone keys for mmpretrain " \
        "dict(type='ResNetV1c', depth=18)" in out
    assert main([str(src)]) == 0  # default: mmseg, backbone.pth
    assert "backbone.pth: 132 backbone keys for mmseg dict(type='ResNetV1c', depth=18)" in \
        capsys.readouterr().out


@pytest.mark.parametrize('host, cfg, match', [
    ('mmdet', dict(type='ResNet', depth=18), r'deep stem .* and the model a 7x7 one .* '
     r'ResNet\(deep_stem=True\)'),
    ('mmdet', dict(type='ResNetV1d', depth=18), r'ResNetV1d, avg_down=True'),
    ('mmpretrain', dict(type='ResNetV1c', depth=18), r'converted for mmseg.*--target mmpretrain'),
    ('mmseg', dict(type='ResNet', depth=18), r'deep_stem=True'),
])
def test_verified_loader_fails_loudly_in_every_host(host, cfg, match, tmp_path, build_model):
    model = build_model()  # deep stem
    src = str(tmp_path / 'deep.pth')
    torch.save({'state_dict': model.state_dict()}, src)
    target = 'mmseg' if host == 'mmpretrain' else host  # the wrong names for mmpretrain
    dst = str(tmp_path / 'b.pth')
    convert_checkpoint(src, dst, target=target)
    backbone = _build(host, dict(cfg, init_cfg=dict(type='VerifiedPretrained', checkpoint=dst)))
    with pytest.raises(CheckpointKeyError, match=match):
        backbone.init_weights()


def test_mmpretrain_takes_the_raw_pretraining_checkpoint_with_prefix(tmp_path, build_model):
    """A whole-model checkpoint (keys backbone.*, mmpretrain names) with prefix='backbone.';
    a converted file asked for a prefix is named as such."""
    model = build_model()
    raw = str(tmp_path / 'epoch_1.pth')
    torch.save({'state_dict': model.state_dict(), 'meta': {'epoch': 1}}, raw)
    cfg = dict(type='ResNetV1c', depth=18,
               init_cfg=dict(type='VerifiedPretrained', checkpoint=raw, prefix='backbone.'))
    backbone = _build('mmpretrain', cfg)
    backbone.init_weights()
    for key, value in model.backbone.state_dict().items():
        assert torch.equal(backbone.state_dict()[key], value), key
    dst = str(tmp_path / 'b.pth')
    convert_checkpoint(raw, dst, target='mmpretrain')
    cfg['init_cfg']['checkpoint'] = dst
    with pytest.raises(CheckpointKeyError, match=r"is a backbone file \(converted for "
                       r"mmpretrain.*drop prefix='backbone\.'"):
        _build('mmpretrain', cfg).init_weights()
