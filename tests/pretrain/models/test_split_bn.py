"""SplitBatchNorm2d: per-group statistics in training, plain BN in eval and for num_splits=1."""
import pytest
import torch

from mmssl_us.pretrain.models import SplitBatchNorm2d


def _reference(x, bn, s):
    """Normalise each group {i : i % s == g} on its own with the BN's affine parameters."""
    out = torch.empty_like(x)
    for g in range(s):
        xg = x[g::s]
        mean = xg.mean(dim=(0, 2, 3), keepdim=True)
        var = xg.var(dim=(0, 2, 3), unbiased=False, keepdim=True)
        out[g::s] = ((xg - mean) / torch.sqrt(var + bn.eps) * bn.weight.view(1, -1, 1, 1)
                     + bn.bias.view(1, -1, 1, 1))
    return out


@pytest.mark.parametrize('splits', [2, 4])
def test_training_output_equals_per_group_batch_norm(splits):
    torch.manual_seed(0)
    bn = SplitBatchNorm2d(3, num_splits=splits)
    with torch.no_grad():
        bn.weight.uniform_(0.5, 2.0)
        bn.bias.uniform_(-1.0, 1.0)
    x = torch.randn(8, 3, 5, 4) * 3 + 1
    torch.testing.assert_close(bn(x), _reference(x, bn, splits), rtol=1e-5, atol=1e-5)


def test_groups_do_not_see_each_other():
    """Changing a sample of group 1 changes group 1's outputs only."""
    torch.manual_seed(1)
    bn = SplitBatchNorm2d(2, num_splits=2)
    x = torch.randn(6, 2, 3, 3)
    y = x.clone()
    y[1] += 10.0  # sample 1 belongs to group 1 (samples 1, 3, 5)
    a, b = bn(x), bn(y)
    torch.testing.assert_close(a[0::2], b[0::2])
    assert not torch.allclose(a[3], b[3])


def test_running_stats_are_the_mean_of_the_group_updates():
    torch.manual_seed(2)
    bn = SplitBatchNorm2d(3, num_splits=2, momentum=0.1)
    x = torch.randn(8, 3, 4, 4) + 2.0
    bn(x)
    groups = [x[0::2], x[1::2]]
    mean = sum(g.mean(dim=(0, 2, 3)) for g in groups) / 2
    var = sum(g.var(dim=(0, 2, 3), unbiased=True) for g in groups) / 2  # BN keeps unbiased var
    torch.testing.assert_close(bn.running_mean, 0.9 * torch.zeros(3) + 0.1 * mean)
    torch.testing.assert_close(bn.running_var, 0.9 * torch.ones(3) + 0.1 * var)
    assert int(bn.num_batches_tracked) == 1


def test_cumulative_momentum_none():
    bn = SplitBatchNorm2d(2, num_splits=2, momentum=None)
    x1, x2 = torch.randn(4, 2, 3, 3), torch.randn(4, 2, 3, 3) + 5
    bn(x1)
    bn(x2)
    m1 = (x1[0::2].mean(dim=(0, 2, 3)) + x1[1::2].mean(dim=(0, 2, 3))) / 2
    m2 = (x2[0::2].mean(dim=(0, 2, 3)) + x2[1::2].mean(dim=(0, 2, 3))) / 2
    torch.testing.assert_close(bn.running_mean, (m1 + m2) / 2)  # cumulative average


def test_eval_and_single_split_are_plain_batch_norm():
    torch.manual_seed(3)
    ref = torch.nn.BatchNorm2d(3)
    bn = SplitBatchNorm2d(3, num_splits=1)
    bn.load_state_dict(ref.state_dict())
    x = torch.randn(4, 3, 5, 5)
    torch.testing.assert_close(bn(x), ref(x))
    torch.testing.assert_close(bn.running_var, ref.running_var)
    split = SplitBatchNorm2d(3, num_splits=2)
    split.load_state_dict(ref.state_dict())
    split.eval()
    ref.eval()
    torch.testing.assert_close(split(x), ref(x))
    assert set(split.state_dict()) == set(ref.state_dict())


def test_bad_arguments_name_the_value():
    with pytest.raises(ValueError, match='num_splits'):
        SplitBatchNorm2d(3, num_splits=0)
    bn = SplitBatchNorm2d(3, num_splits=4)
    with pytest.raises(ValueError, match='batch of 6 samples.*num_splits=4'):
        bn(torch.randn(6, 3, 2, 2))


def test_builds_from_norm_cfg_with_bn_key_names():
    from mmengine.registry import DefaultScope
    from mmpretrain.models import ResNetV1c
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        net = ResNetV1c(depth=18, norm_cfg=dict(type='SplitBatchNorm2d', num_splits=2))
        plain = ResNetV1c(depth=18)
    assert isinstance(net.stem[0].bn, SplitBatchNorm2d)
    assert list(net.state_dict()) == list(plain.state_dict())
    out = net(torch.randn(4, 3, 32, 32))[0]
    assert out.shape == (4, 512, 1, 1) and torch.isfinite(out).all()
    with pytest.raises(ValueError, match='batch of 3'):
        net(torch.randn(3, 3, 32, 32))
