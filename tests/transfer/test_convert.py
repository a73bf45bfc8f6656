"""Pretraining checkpoint -> mmseg backbone: no missing, no unexpected key, equal tensors.

This test imports both hosts on purpose (the package module imports neither mmseg nor needs it).
"""
import importlib.util
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.logging import MessageHub
from mmengine.registry import DefaultScope

from mmssl_us.transfer import (convert_checkpoint, describe_resnet, extract_backbone,
                               load_and_verify, mmpretrain_to_mmseg_resnet)

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = osp.join(ROOT, 'tools', 'model_converters', 'pretrain2seg.py')


def _save_like_mmengine(model, path, epoch=3):
    """A checkpoint shaped like the Runner's: meta, state_dict, message hub (HistoryBuffer)."""
    hub = MessageHub(f'convert_test_{osp.basename(path)}')
    hub.update_scalar('train/loss', 1.5)
    torch.save(dict(meta=dict(epoch=epoch, iter=epoch * 10), state_dict=model.state_dict(),
                    message_hub=hub.state_dict()), path)


def _mmseg_backbone(depth, checkpoint=None):
    """mmseg's FCN R50-D8 backbone (for depth 50, from mmseg's own config) or ResNetV1c."""
    import mmseg.models  # noqa: F401
    from mmseg.registry import MODELS
    if depth == 50:
        fcn = Config.fromfile(osp.join(osp.dirname(mmseg.models.__file__), '..', '.mim',
                                       'configs', '_base_', 'models', 'fcn_r50-d8.py'))
        cfg = fcn.model.backbone
        assert cfg.type == 'ResNetV1c' and tuple(cfg.dilations) == (1, 1, 2, 4)
    else:
        cfg = dict(type='ResNetV1c', depth=depth)
    if checkpoint:
        cfg['init_cfg'] = dict(type='Pretrained', checkpoint=checkpoint)
    with DefaultScope.overwrite_default_scope('mmseg'):
        return MODELS.build(cfg)


@pytest.mark.parametrize('depth', [18, 50])
def test_densecl_checkpoint_loads_into_mmseg_resnetv1c(tmp_path, build_model, depth):
    channels = 512 if depth == 18 else 2048
    model = build_model(backbone=dict(type='ResNetV1c', depth=depth, out_indices=(3, ),
                                      norm_cfg=dict(type='SplitBatchNorm2d', num_splits=2)),
                        neck=dict(type='DenseCLNeck', in_channels=channels, hid_channels=16,
                                  out_channels=16, num_grid=None))
    with torch.no_grad():  # make the momentum encoder differ from the online one
        for p in model.encoder_k.parameters():
            p.add_(1.0)
        model.backbone.stem[1].bn.running_mean.add_(0.25)
    src, dst = str(tmp_path / 'epoch_3.pth'), str(tmp_path / 'backbone.pth')
    _save_like_mmengine(model, src)
    state, meta = convert_checkpoint(src, dst)
    assert meta['depth'] == depth and meta['deep_stem'] and meta['epoch'] == 3
    assert 'encoder_k' in meta['dropped'] and 'neck' in meta['dropped']
    # plain torch can load it safely: nothing but tensors, str and int inside
    assert torch.serialization.get_unsafe_globals_in_checkpoint(dst) == []
    saved = torch.load(dst, weights_only=True)
    assert set(saved) == {'state_dict', 'meta'}

    seg = _mmseg_backbone(depth, checkpoint=dst)
    assert set(saved['state_dict']) == set(seg.state_dict())  # 0 missing, 0 unexpected
    seg.init_weights()  # mmengine's Pretrained initializer, i.e. what a seg config does
    seg_state = seg.state_dict()
    online = model.backbone.state_dict()
    for src_key, value in online.items():
        key = src_key
        for i in range(3):
            key = key.replace(f'stem.{i}.conv.', f'stem.{3 * i}.').replace(
                f'stem.{i}.bn.', f'stem.{3 * i + 1}.')
        torch.testing.assert_close(seg_state[key], value, rtol=0, atol=0)
    load_and_verify(_mmseg_backbone(depth), saved['state_dict'])


@pytest.mark.parametrize('algo', ['SimCLR', 'UltrasoundMoCo', 'BYOL'])
def test_other_methods_keep_the_online_encoder(build_model, algo):
    necks = dict(
        SimCLR=dict(type='NonLinearNeck', in_channels=512, hid_channels=16, out_channels=8,
                    num_layers=2, with_avg_pool=True),
        UltrasoundMoCo=dict(type='MoCoV2Neck', in_channels=512, hid_channels=16,
                            out_channels=16, with_avg_pool=True),
        BYOL=dict(type='NonLinearNeck', in_channels=512, hid_channels=16, out_channels=8,
                  num_layers=2, with_avg_pool=True))
    extra = dict(BYOL=dict(head=dict(
        type='LatentPredictHead', loss=dict(type='CosineSimilarityLoss'),
        predictor=dict(type='NonLinearNeck', in_channels=8, hid_channels=16, out_channels=8,
                       num_layers=2, with_avg_pool=False))))
    drop = dict(SimCLR=('queue_len', 'feat_dim', 'momentum', 'loss_lambda'),
                UltrasoundMoCo=('loss_lambda', ),
                BYOL=('queue_len', 'feat_dim', 'momentum', 'loss_lambda'))
    model = build_model(type=algo, neck=necks[algo], drop=drop[algo], **extra.get(algo, {}))
    state = model.state_dict()
    target = 'target_net.' if algo == 'BYOL' else 'encoder_k.'
    if algo != 'SimCLR':
        assert any(k.startswith(target) for k in state)
        for k in state:
            if k.startswith(target) and k.endswith('weight'):
                state[k] = state[k] + 1.0  # the target/momentum encoder must not be taken
    backbone = mmpretrain_to_mmseg_resnet(extract_backbone(state))
    assert describe_resnet(backbone)['depth'] == 18
    torch.testing.assert_close(backbone['stem.0.weight'], model.backbone.stem[0].conv.weight)
    torch.testing.assert_close(backbone['layer4.1.bn2.bias'],
                               model.backbone.layer4[1].bn2.bias)
    load_and_verify(_mmseg_backbone(18), backbone)


def test_errors_name_the_problem(tmp_path):
    torch.save({'state_dict': {'neck.fc.weight': torch.zeros(2)}}, tmp_path / 'n.pth')
    with pytest.raises(ValueError, match=r'n\.pth: no "backbone\.\*" keys .*\[\'neck\'\]'):
        convert_checkpoint(str(tmp_path / 'n.pth'), str(tmp_path / 'o.pth'))
    with pytest.raises(ValueError, match=r'blocks per stage \[1, 0, 0, 0\]'):
        describe_resnet({'stem.0.weight': torch.zeros(1), 'layer1.0.conv1.weight': 0})
    seg = _mmseg_backbone(18)
    state = seg.state_dict()
    state.pop('layer1.0.bn1.bias')
    state['extra.weight'] = torch.zeros(1)
    with pytest.raises(ValueError, match=r"1 missing \['layer1.0.bn1.bias'\], 1 unexpected"):
        load_and_verify(_mmseg_backbone(18), state)


def test_tool_from_work_dir_with_verify(tmp_path, build_model, capsys):
    model = build_model()
    work = tmp_path / 'work_dirs' / 'r50_knee'
    work.mkdir(parents=True)
    _save_like_mmengine(model, str(work / 'epoch_200.pth'), epoch=200)
    (work / 'last_checkpoint').write_text(str(work / 'epoch_200.pth'), encoding='utf-8')
    spec = importlib.util.spec_from_file_location('pretrain2seg', TOOL)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    assert tool.main([str(work), '--verify']) == 0
    out = capsys.readouterr().out
    assert f'-> {work}/backbone.pth' in out
    assert 'loads into mmseg ResNetV1c(depth=18), 132 keys with 0 missing, 0 unexpected' in out
    assert osp.isfile(work / 'backbone.pth')
    with pytest.raises(FileNotFoundError, match='checkpoint not found'):
        tool.main([str(tmp_path / 'nope.pth')])


def test_converter_never_overwrites_its_source_or_a_foreign_file(tmp_path):
    """Issue 10, case 10: `pretrain2seg.py W/epoch_1.pth W/epoch_1.pth` replaced a training
    checkpoint by the backbone. Now the source, a folder and a foreign file are refused."""
    from mmpretrain.models.backbones import ResNetV1c

    from mmssl_us.transfer import convert_checkpoint
    from mmssl_us.transfer.cli import main
    net = ResNetV1c(depth=18)
    src = tmp_path / 'epoch_1.pth'
    state = {f'backbone.{k}': v for k, v in net.state_dict().items()}
    state['neck.w'] = torch.zeros(2)
    torch.save({'state_dict': state, 'meta': {'epoch': 1}}, src)
    before = src.read_bytes()
    with pytest.raises(ValueError, match='never overwrites its source'):
        convert_checkpoint(str(src), str(src))
    assert main([str(src), str(src)]) == 2
    assert src.read_bytes() == before
    with pytest.raises(ValueError, match='is a folder'):
        convert_checkpoint(str(src), str(tmp_path))
    foreign = tmp_path / 'notes.pth'
    foreign.write_bytes(b'not a checkpoint of ours')
    with pytest.raises(ValueError, match='refusing to overwrite'):
        convert_checkpoint(str(src), str(foreign))
    assert foreign.read_bytes() == b'not a checkpoint of ours'
    # our own backbone file is replaced without a word; --force replaces a foreign one
    convert_checkpoint(str(src), str(tmp_path / 'backbone.pth'))
    convert_checkpoint(str(src), str(tmp_path / 'backbone.pth'))
    assert main([str(src), str(foreign), '--force']) == 0
    assert torch.load(foreign, weights_only=True)['meta']['converter'] == 'mmssl_us.transfer'
    assert sorted(p.name for p in tmp_path.iterdir()) == ['backbone.pth', 'epoch_1.pth',
                                                          'notes.pth']  # no temporaries left
