"""The pretrained UNet: a tiny UNetEncoder pretraining (SimCLR, BYOL, DenseCL) -> the 'unet'
adapter -> mmseg's UNet with every encoder key loaded and only the decoder missing, verified on
the encoder path's outputs."""
import os.path as osp

import pytest
import torch

from mmssl_us.transfer import convert_checkpoint, main, verify_backbone
from mmssl_us.transfer.init import pretrained_init_cfg

ENC = dict(type='UNetEncoder', in_channels=3, base_channels=4, num_stages=3,
           strides=(1, 1, 1), enc_num_convs=(2, 1, 2), downsamples=(True, True),
           enc_dilations=(1, 1, 1))
PRE = dict(type='SelfSupDataPreprocessor', mean=[40.0] * 3, std=[44.0] * 3)
C = 16  # deepest stage: base 4 * 2**2


def _model(kind):
    from mmengine.registry import DefaultScope
    from mmpretrain.registry import MODELS

    import mmssl_us.pretrain  # noqa: F401
    if kind == 'simclr':
        cfg = dict(type='SimCLR', backbone=ENC,
                   neck=dict(type='NonLinearNeck', in_channels=C, hid_channels=8,
                             out_channels=8, num_layers=2, with_avg_pool=True),
                   head=dict(type='ContrastiveHead', loss=dict(type='CrossEntropyLoss'),
                             temperature=0.1))
    elif kind == 'byol':
        cfg = dict(type='BYOL', backbone=ENC,
                   neck=dict(type='NonLinearNeck', in_channels=C, hid_channels=8,
                             out_channels=8, num_layers=2, with_avg_pool=True),
                   head=dict(type='LatentPredictHead', loss=dict(type='CosineSimilarityLoss'),
                             predictor=dict(type='NonLinearNeck', in_channels=8,
                                            hid_channels=8, out_channels=8,
                                            with_avg_pool=False)))
    else:  # DenseCL: its neck takes the one dense map of the deepest stage
        cfg = dict(type='UltrasoundDenseCL', queue_len=8, feat_dim=8, momentum=0.001,
                   loss_lambda=0.5, backbone=ENC,
                   neck=dict(type='DenseCLNeck', in_channels=C, hid_channels=8, out_channels=8,
                             num_grid=None),
                   head=dict(type='ContrastiveHead', loss=dict(type='CrossEntropyLoss'),
                             temperature=0.2))
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        model = MODELS.build(dict(cfg, data_preprocessor=PRE))
    model.init_weights()
    return model


def _step(model):
    """One optimiser step on two random views of four 32x32 images."""
    from mmpretrain.structures import DataSample
    torch.manual_seed(0)
    views = [torch.randint(0, 255, (4, 3, 32, 32)).float() for _ in range(2)]
    data = dict(inputs=views, data_samples=[DataSample() for _ in range(4)])
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    model.train()
    inputs = model.data_preprocessor(data, training=True)
    losses = model(**inputs, mode='loss')
    loss = sum(v for k, v in losses.items() if 'loss' in k)
    opt.zero_grad()
    loss.backward()
    opt.step()
    return float(loss.detach())


def test_unet_encoder_names_are_mmsegs():
    from mmseg.models.backbones import UNet

    from mmssl_us.pretrain.models import UNetEncoder
    from mmengine.registry import DefaultScope
    kw = {k: v for k, v in ENC.items() if k != 'type'}
    enc = UNetEncoder(**kw)
    with DefaultScope.overwrite_default_scope('mmseg'):
        unet = UNet(**kw, dec_num_convs=(2, 2), dec_dilations=(1, 1),
                    norm_cfg=dict(type='BN'))
    ours = {k: tuple(v.shape) for k, v in enc.state_dict().items()}
    theirs = {k: tuple(v.shape) for k, v in unet.state_dict().items()
              if k.startswith('encoder.')}
    assert ours == theirs and len(ours) > 0


@pytest.mark.parametrize('kind', ['simclr', 'byol', 'densecl'])
def test_pretrained_unet_transfers_verified(tmp_path, kind):
    model = _model(kind)
    assert torch.isfinite(torch.tensor(_step(model)))
    src = str(tmp_path / 'epoch_1.pth')
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, src)
    dst = str(tmp_path / 'backbone.pth')
    state, meta = convert_checkpoint(src, dst, 'unet', verify=True)
    assert set(state) == {k[len('backbone.'):] for k in model.state_dict()
                          if k.startswith('backbone.')}
    assert meta['allowed_missing'] == 'decoder.*'
    assert meta['base_channels'] == 4 and meta['num_stages'] == 3
    assert meta['enc_num_convs'] == '2,1,2'
    assert 'left to the fine-tuning' in meta['verified']
    assert '3 outputs equal' in meta['verified']
    # mmseg's UNet loads it: every encoder key, the decoder the only part missing
    from mmengine.registry import DefaultScope
    from mmseg.registry import MODELS

    import mmssl_us.seg  # noqa: F401  (VerifiedPretrained)
    init = pretrained_init_cfg(dst)
    assert init['allowed_missing'] == ['decoder.*']
    kw = {k: v for k, v in ENC.items() if k != 'type'}
    with DefaultScope.overwrite_default_scope('mmseg'):
        unet = MODELS.build(dict(type='UNet', **kw, dec_num_convs=(2, 2), dec_dilations=(1, 1),
                                 norm_cfg=dict(type='BN'), init_cfg=init))
    unet.init_weights()
    own = unet.state_dict()
    for key, value in state.items():
        assert torch.equal(own[key], value), key
    assert all(k.startswith('decoder.') for k in own if k not in state)
    assert any(k.startswith('decoder.') for k in own)


def test_unet_verification_catches_mixed_up_layers(tmp_path):
    """Two same-shaped norm layers of one stage mixed up pass every key check; the encoder
    path's outputs do not."""
    from mmssl_us.transfer.adapters import get_adapter
    kw = {k: v for k, v in ENC.items() if k != 'type'}
    kw.update(enc_num_convs=(2, 2, 2))
    from mmssl_us.pretrain.models import UNetEncoder
    torch.manual_seed(0)
    enc = UNetEncoder(**kw)
    enc.init_weights()
    state = enc.state_dict()
    adapter = get_adapter('unet')
    meta = dict(adapter.describe(state))
    swapped = dict(state)
    a, b = 'encoder.1.1.convs.0.bn.weight', 'encoder.1.1.convs.1.bn.weight'
    swapped[a], swapped[b] = state[b] + 0.5, state[a]
    assert 'outputs equal' in verify_backbone(state, meta, adapter, state)
    with pytest.raises(ValueError, match='output 1 differs'):
        verify_backbone(dict(swapped), meta, adapter, state)


def test_unet_adapter_refuses_what_does_not_fit(tmp_path, capsys):
    from mmssl_us.pretrain.models import UNetEncoder
    kw = {k: v for k, v in ENC.items() if k != 'type'}
    enc = UNetEncoder(**kw)
    src = str(tmp_path / 'ckpt.pth')
    torch.save({'state_dict': {'backbone.' + k: v for k, v in enc.state_dict().items()}}, src)
    with pytest.raises(ValueError, match='base_channels=8, but the checkpoint has '
                       'base_channels=4'):
        convert_checkpoint(src, str(tmp_path / 'a.pth'), 'unet',
                           backbone='UNet(base_channels=8)')
    with pytest.raises(ValueError, match='is a UNet encoder'):
        convert_checkpoint(src, str(tmp_path / 'b.pth'), 'unet', backbone='ResNetV1c')
    assert not osp.exists(tmp_path / 'a.pth') and not osp.exists(tmp_path / 'b.pth')
    # a ResNet checkpoint is not a UNet encoder
    resnet = str(tmp_path / 'resnet.pth')
    torch.save({'state_dict': {'backbone.conv1.weight': torch.zeros(4, 3, 7, 7)}}, resnet)
    with pytest.raises(ValueError, match='not UNet encoder keys'):
        convert_checkpoint(resnet, str(tmp_path / 'c.pth'), 'unet')
    # the command line: --adapter unet --verify
    assert main([src, str(tmp_path / 'd.pth'), '--adapter', 'unet', '--verify']) == 0
    out = capsys.readouterr().out
    assert 'left to the fine-tuning: decoder.*' in out and 'outputs equal' in out


def test_pretrained_init_cfg_allows_nothing_for_a_whole_backbone(tmp_path):
    path = str(tmp_path / 'resnet.pth')
    torch.save({'state_dict': {'conv1.weight': torch.zeros(1)},
                'meta': {'converter': 'mmssl_us.transfer'}}, path)
    assert pretrained_init_cfg(path) == dict(type='VerifiedPretrained', checkpoint=path)
