"""ModelsGenesis: built from config, its loss against a plain reference, it learns to restore,
and its encoder converts to mmseg's ResNetV1c with no missing or unexpected key."""
import copy

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.registry import DefaultScope
from mmpretrain.structures import DataSample

TINY_GENESIS = dict(
    type='ModelsGenesis',
    backbone=dict(type='ResNetV1c', depth=18, in_channels=3, out_indices=(0, 1, 2, 3),
                  norm_cfg=dict(type='BN'), zero_init_residual=False),
    neck=dict(type='GenesisDecoder', in_channels=(64, 128, 256, 512),
              channels=(32, 16, 16, 8, 8), out_channels=1),
    data_preprocessor=dict(type='SelfSupDataPreprocessor', mean=[40.0] * 3, std=[44.0] * 3))


def _build(**overrides):
    from mmpretrain.registry import MODELS
    cfg = copy.deepcopy(TINY_GENESIS)
    for key, value in overrides.items():
        if isinstance(value, dict) and key in cfg:
            cfg[key].update(value)
        else:
            cfg[key] = value
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        return MODELS.build(cfg)


def _sample(target) -> DataSample:
    sample = DataSample()
    sample.set_field(target, 'gt_img')
    return sample


def _batch(n=4, size=48, seed=0):
    """Smooth grey images (uint8 HxW targets) and the normalised 3-channel inputs."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size] / size
    imgs = []
    for _ in range(n):
        a, b, c = rng.uniform(-3, 3, 3)
        imgs.append((127.5 + 120 * np.sin(a * yy + b * xx + c)).astype(np.uint8))
    samples = [_sample(img) for img in imgs]
    inputs = torch.from_numpy(np.stack(imgs)).float()[:, None].repeat(1, 3, 1, 1)
    return (inputs - 40.0) / 44.0, samples, imgs


def test_loss_is_the_mse_of_the_sigmoid_output_against_the_target_in_unit_range():
    torch.manual_seed(0)
    model = _build().eval()
    inputs, samples, imgs = _batch()
    target = torch.from_numpy(np.stack(imgs)).float()[:, None] / 255.0
    with torch.no_grad():
        logits = model.neck(model.backbone(inputs))
        assert logits.shape == (4, 1, 48, 48)  # five x2 stages undo the stride of 32
        loss = model.loss(inputs, samples)['loss_restore']
        torch.testing.assert_close(loss, F.mse_loss(torch.sigmoid(logits), target))
        l1 = _build(loss=dict(type='PixelReconstructionLoss', criterion='L1'))
        l1.load_state_dict(model.state_dict())
        l1.eval()
        torch.testing.assert_close(l1.loss(inputs, samples)['loss_restore'],
                                   F.l1_loss(torch.sigmoid(logits), target))


@pytest.mark.slow
@pytest.mark.parametrize('skips', [True, False])
def test_a_few_steps_on_an_identity_distortion_lower_the_loss(skips):
    torch.manual_seed(0)
    overrides = {} if skips else dict(
        backbone=dict(out_indices=(3, )), neck=dict(skips=False))
    model = _build(**overrides).train()
    inputs, samples, _ = _batch(size=40)  # 40 px: the decoder's 32 px output is resized
    optim = torch.optim.Adam(model.parameters(), lr=1e-3)
    stem = model.backbone.stem[0].conv.weight
    losses = []
    for step in range(8):
        optim.zero_grad()
        loss = model.loss(inputs, samples)['loss_restore']
        assert torch.isfinite(loss)
        loss.backward()
        if step == 0:  # the gradient reaches the first layer of the encoder
            assert stem.grad is not None and stem.grad.abs().sum() > 0
        optim.step()
        losses.append(float(loss.detach()))
    assert losses[-1] < 0.7 * losses[0], losses


def test_the_data_preprocessor_path_and_errors():
    model = _build()
    inputs, samples, imgs = _batch(n=2, size=32)
    raw = [torch.from_numpy(i)[None].repeat(3, 1, 1) for i in imgs]
    data = model.data_preprocessor(dict(inputs=torch.stack(raw), data_samples=samples), True)
    torch.testing.assert_close(data['inputs'], inputs)  # normalised as the test's inputs
    assert torch.isfinite(model(**data, mode='loss')['loss_restore'])
    with pytest.raises(ValueError, match="no 'gt_img'.*KeepRestorationTarget"):
        model.loss(inputs, [DataSample(), DataSample()])
    colour = [_sample(np.dstack([i] * 3)) for i in imgs]
    with pytest.raises(ValueError, match='gives 1 channel.*target has 3.*out_channels'):
        model.loss(inputs, colour)
    with pytest.raises(ValueError, match='target 0 is'):
        model.loss(inputs[..., :16], samples)
    with pytest.raises(ValueError, match='expects 4 backbone outputs'):
        model.neck(model.backbone(inputs)[-1:])


def test_colour_targets_with_three_output_maps():
    model = _build(neck=dict(out_channels=3)).eval()
    inputs, _, imgs = _batch(n=2, size=32)
    colour = [_sample(np.dstack([i, 255 - i, i // 2])) for i in imgs]
    target = torch.from_numpy(np.stack([s.gt_img for s in colour])).permute(0, 3, 1, 2) / 255.0
    with torch.no_grad():
        pred = model.reconstruct(inputs)
        torch.testing.assert_close(model.loss(inputs, colour)['loss_restore'],
                                   F.mse_loss(pred, target.float()))


def test_encoder_converts_to_mmseg_with_no_missing_or_unexpected_key(tmp_path):
    from mmseg.models.backbones import ResNetV1c

    from mmssl_us.transfer import convert_checkpoint
    torch.manual_seed(1)
    model = _build()
    src, dst = tmp_path / 'genesis.pth', tmp_path / 'backbone.pth'
    torch.save(dict(state_dict=model.state_dict(), meta=dict(epoch=1)), src)
    state, meta = convert_checkpoint(str(src), str(dst), verify=True)
    assert meta['depth'] == 18 and meta['deep_stem'] and meta['verified']
    assert not any(k.startswith(('neck', 'criterion', 'data_preprocessor')) for k in state)
    seg = ResNetV1c(depth=18, in_channels=3)
    result = seg.load_state_dict(state, strict=False)
    assert result.missing_keys == [] and result.unexpected_keys == []
    # the same weights: mmseg's stem conv is mmpretrain's stem ConvModule
    torch.testing.assert_close(seg.stem[0].weight, model.backbone.stem[0].conv.weight)
    torch.testing.assert_close(seg.layer4[1].conv2.weight, model.backbone.layer4[1].conv2.weight)
