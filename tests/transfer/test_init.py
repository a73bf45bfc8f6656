"""VerifiedPretrained at its implementation (mmssl_us/transfer/init.py), on plain torch modules:
no host library is needed to load, refuse or rewrite. (tests/seg/engine/test_verified_init.py
holds the mmseg backbones and segmentors; tests/transfer/test_hosts.py mmdet and mmpretrain.)"""
import pytest
import torch
from mmengine.model import BaseModule
from mmengine.model.weight_init import initialize

from mmssl_us.transfer.init import (CLASSIFIER_KEYS, CheckpointKeyError, extract_state_dict,
                                    strict_pretrained_inits)


class _Block(BaseModule):
    """A conv + BN with an init of its own (which a later init step would re-run)."""

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 4, 3)
        self.bn = torch.nn.BatchNorm2d(4)

    def init_weights(self):
        torch.nn.init.zeros_(self.conv.weight)


class _Net(BaseModule):

    def __init__(self, zero_init_residual=True):
        super().__init__()
        self.stem = _Block()
        self.zero_init_residual = zero_init_residual


def _random_state(seed=0):
    torch.manual_seed(seed)
    net = _Net()
    with torch.no_grad():
        for t in net.state_dict().values():
            if t.dtype.is_floating_point:
                t.normal_()
    return net.state_dict()


def _init(module, **cfg):
    initialize(module, dict(type='VerifiedPretrained', **cfg))


def _save(tmp_path, state, name='ckpt.pth', **extra):
    path = str(tmp_path / name)
    torch.save(dict(state_dict=state, **extra), path)
    return path


def test_exact_load_keeps_every_tensor_and_stops_later_init_steps(tmp_path):
    ref = _random_state()
    net = _Net()
    _init(net, checkpoint=_save(tmp_path, ref))
    for key, value in net.state_dict().items():
        assert torch.equal(value, ref[key]), key
    # the later steps that would overwrite the load are switched off
    assert net.zero_init_residual is False and net.stem.is_init
    net.init_weights()  # mmengine's BaseModule.init_weights: the marked child is skipped
    assert torch.equal(net.stem.conv.weight, ref['stem.conv.weight'])


def test_missing_unexpected_and_mis_shaped_keys_are_named(tmp_path):
    ref = _random_state()
    missing = {k: v for k, v in ref.items() if k != 'stem.bn.bias'}
    with pytest.raises(CheckpointKeyError, match=r'1 missing: stem\.bn\.bias'):
        _init(_Net(), checkpoint=_save(tmp_path, missing, 'missing.pth'))
    _init(_Net(), checkpoint=_save(tmp_path, missing, 'missing.pth'),
          allowed_missing=['stem.bn.bias'])
    extra = dict(ref, **{'fc.weight': torch.zeros(2, 4)})
    with pytest.raises(CheckpointKeyError, match=r'1 unexpected: fc\.weight'):
        _init(_Net(), checkpoint=_save(tmp_path, extra, 'extra.pth'))
    _init(_Net(), checkpoint=_save(tmp_path, extra, 'extra.pth'),
          allowed_unexpected=list(CLASSIFIER_KEYS))
    shaped = dict(ref, **{'stem.conv.weight': torch.zeros(4, 3, 1, 1)})
    with pytest.raises(CheckpointKeyError, match=r'stem\.conv\.weight'):
        _init(_Net(), checkpoint=_save(tmp_path, shaped, 'shaped.pth'))


def test_prefix_takes_one_part_of_a_whole_model_checkpoint(tmp_path):
    ref = _random_state()
    whole = {f'backbone.{k}': v for k, v in ref.items()}
    whole['neck.weight'] = torch.zeros(1)
    net = _Net()
    _init(net, checkpoint=_save(tmp_path, whole), prefix='backbone.')
    assert torch.equal(net.stem.bn.running_mean, ref['stem.bn.running_mean'])
    with pytest.raises(CheckpointKeyError, match=r"no tensors with the prefix 'encoder\.'.*"
                       r"\['backbone', 'neck'\]"):
        extract_state_dict(dict(state_dict=whole), 'encoder.', source='whole.pth')


def test_a_backbone_of_another_method_is_refused(tmp_path):
    path = _save(tmp_path, _random_state(), meta=dict(method='ModelsGenesis', source='g/'))
    with pytest.raises(CheckpointKeyError, match=r'from a ModelsGenesis pretraining .*expects '
                       r'UltrasoundDenseCL'):
        _init(_Net(), checkpoint=path, method='UltrasoundDenseCL')
    _init(_Net(), checkpoint=path, method='ModelsGenesis')


def test_strict_pretrained_inits_keeps_prefix_and_leaves_other_inits():
    model = dict(type='ImageClassifier',
                 backbone=dict(type='ResNet', init_cfg=dict(type='Pretrained', checkpoint='a.pth',
                                                            prefix='backbone.')),
                 head=dict(init_cfg=dict(type='Normal', std=0.01)))
    assert strict_pretrained_inits(model) == ['model.backbone.init_cfg']
    assert model['backbone']['init_cfg'] == dict(
        type='VerifiedPretrained', checkpoint='a.pth', prefix='backbone.',
        allowed_unexpected=list(CLASSIFIER_KEYS))
    assert model['head']['init_cfg'] == dict(type='Normal', std=0.01)
    assert strict_pretrained_inits(model) == []  # nothing left to rewrite
