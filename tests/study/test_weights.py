"""Relative weight change per stage between a pretraining's start and end."""
import math

import pytest
import torch

from mmssl_us.study.weights import stage_of, weight_change


def _state(scale_layer1=1.0, bn_shift=0.0):
    torch.manual_seed(0)
    s = {'stem.0.weight': torch.randn(4, 3, 3, 3),
         'stem.1.weight': torch.ones(4), 'stem.1.bias': torch.zeros(4),
         'stem.1.running_mean': torch.zeros(4), 'stem.1.running_var': torch.ones(4),
         'layer1.0.conv1.weight': torch.randn(4, 4, 3, 3),
         'layer1.0.bn1.weight': torch.ones(4), 'layer1.0.bn1.bias': torch.zeros(4),
         'layer1.0.bn1.running_mean': torch.zeros(4),
         'layer1.0.bn1.running_var': torch.ones(4)}
    s['layer1.0.conv1.weight'] *= scale_layer1
    s['layer1.0.bn1.weight'] += bn_shift
    return s


def test_hand_computed_change_per_stage():
    start, end = _state(), _state(scale_layer1=1.1, bn_shift=0.5)
    end['layer1.0.bn1.running_mean'] += 100.0  # statistics are not learnt: ignored
    out = weight_change(start, end)
    assert list(out) == ['stem', 'layer1', 'all']
    assert out['stem']['rel_l2'] == 0.0 and out['stem']['bn_scale'] == 0.0
    w = start['layer1.0.conv1.weight'].double()
    num = math.sqrt(float((0.1 * w).pow(2).sum()) + 4 * 0.5 ** 2)
    den = math.sqrt(float(w.pow(2).sum()) + 4 * 1.0)  # conv + gamma (bias is 0)
    assert out['layer1']['rel_l2'] == pytest.approx(num / den)
    assert out['layer1']['bn_scale'] == pytest.approx(0.5)
    assert 0 < out['all']['rel_l2'] < out['layer1']['rel_l2']
    assert stage_of('conv1.weight') == 'stem' and stage_of('layer4.1.bn2.bias') == 'layer4'


def test_not_two_states_of_one_network():
    a, b = _state(), _state()
    del b['stem.0.weight']
    with pytest.raises(ValueError, match='differ in keys'):
        weight_change(a, b)
    b = _state()
    b['stem.0.weight'] = torch.zeros(2, 3, 3, 3)
    with pytest.raises(ValueError, match='shape'):
        weight_change(a, b)


def test_unet_encoder_stages():
    assert stage_of('encoder.3.1.convs.0.conv.weight') == 'encoder3'
    assert stage_of('encoder.0.0.convs.1.bn.weight') == 'encoder0'
