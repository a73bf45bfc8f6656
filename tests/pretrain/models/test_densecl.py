"""UltrasoundDenseCL: same loss as mmpretrain's DenseCL, documented EMA convention, checks."""
import pytest
import torch
from mmengine.registry import DefaultScope
from mmpretrain.models import DenseCL
from torch import nn

from mmssl_us.pretrain.models import UltrasoundDenseCL, UltrasoundMoCo


def _views(n=4, size=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(n, 3, size, size, generator=g) for _ in range(2)]


def test_loss_equals_upstream_densecl(build_model):
    ours = build_model()
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        upstream = DenseCL(
            backbone=dict(type='ResNetV1c', depth=18, out_indices=(3, ),
                          norm_cfg=dict(type='BN')),
            neck=dict(type='DenseCLNeck', in_channels=512, hid_channels=32, out_channels=16,
                      num_grid=None),
            head=dict(type='ContrastiveHead', loss=dict(type='CrossEntropyLoss'),
                      temperature=0.2),
            queue_len=8, feat_dim=16, momentum=0.001, loss_lambda=0.5)
    upstream.load_state_dict(ours.state_dict())
    for step in range(3):  # also after the queues have been updated
        x = _views(seed=step)
        torch.manual_seed(100 + step)
        a = ours.loss([v.clone() for v in x], None)
        torch.manual_seed(100 + step)
        b = upstream.loss([v.clone() for v in x], None)
        for key in ('loss_single', 'loss_dense'):
            torch.testing.assert_close(a[key], b[key])
    torch.testing.assert_close(ours.queue, upstream.queue)
    torch.testing.assert_close(ours.queue2, upstream.queue2)


def test_single_loss_against_reference_infonce(build_model):
    """loss_lambda=0: loss_dense is 0 and loss_single is InfoNCE of q, k and the queue; on
    the first step the key encoder is a copy of the query encoder."""
    model = build_model(loss_lambda=0.0)
    x = _views(seed=3)
    queue = model.queue.clone()
    with torch.no_grad():
        q = nn.functional.normalize(model.neck(model.backbone(x[0]))[0], dim=1)
        k = nn.functional.normalize(model.neck(model.backbone(x[1]))[0], dim=1)
    logits = torch.cat([(q * k).sum(1, keepdim=True), q @ queue], dim=1) / 0.2
    expected = nn.functional.cross_entropy(logits, torch.zeros(4, dtype=torch.long))
    losses = model.loss(x, None)
    assert losses['loss_dense'].item() == 0.0
    torch.testing.assert_close(losses['loss_single'], expected, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(model.queue[:, :4], k.t(), rtol=1e-4, atol=1e-5)


def test_momentum_is_the_weight_of_the_online_encoder(build_model):
    """key <- (1 - momentum) * key + momentum * query: momentum=0.001 is the paper's m=0.999."""
    model = build_model()
    model.loss(_views(seed=1), None)  # first update copies the online encoder
    online = model.backbone.stem[0].conv.weight
    key = model.encoder_k.module[0].stem[0].conv.weight
    torch.testing.assert_close(key, online)
    with torch.no_grad():
        online.add_(1.0)
    before = key.clone()
    model.loss(_views(seed=2), None)
    torch.testing.assert_close(key, 0.999 * before + 0.001 * online)


@pytest.mark.parametrize('cls', [UltrasoundDenseCL, UltrasoundMoCo])
def test_paper_convention_momentum_is_refused(build_model, cls):
    drop = ('loss_lambda', ) if cls is UltrasoundMoCo else ()
    with pytest.raises(ValueError, match=r'momentum=0\.999.*momentum=0\.001'):
        build_model(type=cls.__name__, momentum=0.999, drop=drop)


def test_bad_queue_len_and_lambda(build_model):
    with pytest.raises(ValueError, match='queue_len'):
        build_model(queue_len='big')
    with pytest.raises(ValueError, match='loss_lambda'):
        build_model(loss_lambda=1.5)
    model = build_model(queue_len=10)
    with pytest.raises(ValueError, match=r'queue_len=10 .*batch_size=4 x world_size=1'):
        model.loss(_views(), None)  # upstream: a bare AssertionError
    auto = build_model(queue_len='auto')
    with pytest.raises(RuntimeError, match='NegativeQueueHook'):
        auto.loss(_views(), None)


def test_moco_auto_queue(build_model):
    model = build_model(type='UltrasoundMoCo', queue_len='auto', drop=('loss_lambda', ),
                        neck=dict(type='MoCoV2Neck', in_channels=512, hid_channels=32,
                                  out_channels=16, with_avg_pool=True))
    assert model.queue.shape == (16, 1)
    model.resize_queues(12)
    out = model.loss(_views(), None)
    assert torch.isfinite(out['loss']) and int(model.queue_ptr) == 4


@pytest.mark.slow
def test_views_too_small_for_the_batch_are_named(build_model):
    """Issue 10: batch 2 with 32 px views and split BN ended in torch's 'Expected more than 1
    value per channel when training'."""
    model = build_model(backbone=dict(type='ResNetV1c', depth=18, in_channels=3,
                                      out_indices=(3, ),
                                      norm_cfg=dict(type='SplitBatchNorm2d', num_splits=2)))
    model.train()
    with pytest.raises(ValueError, match=r'views of 32x32 px at batch 2 .*2 group.*at least 64'):
        model.loss(_views(n=2, size=32), None)
    out = model.loss(_views(n=2, size=64), None)  # 2x2 cells per group: fine
    assert torch.isfinite(out['loss_single'])
