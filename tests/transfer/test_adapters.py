"""A new backbone family joins the transfer step by registering an adapter: here the encoder of a
tiny encoder-decoder kept under the prefix 'encoder.' (a family other than our ResNets, which all
sit under 'backbone.', Models Genesis included), converted and verified through the same public
functions as the ResNet."""
import os.path as osp

import pytest
import torch
from torch import nn

from mmssl_us.transfer import (ADAPTERS, BackboneAdapter, convert_checkpoint, get_adapter, main,
                               register_adapter)


class ToyEncoder(nn.Module):
    """The pretraining side's naming: stem, a, b (a and b have the same shape)."""

    def __init__(self, in_channels: int = 2):
        super().__init__()
        self.stem = nn.Conv2d(in_channels, 4, 3, padding=1)
        self.a = nn.Conv2d(4, 4, 3, padding=1)
        self.b = nn.Conv2d(4, 4, 3, padding=1)

    def forward(self, x):
        return self.b(torch.relu(self.a(torch.relu(self.stem(x)))))


class ToyTarget(nn.Sequential):
    """The host's naming of the same network: 0, 2, 4 of a Sequential."""

    def __init__(self, in_channels: int = 2):
        super().__init__(nn.Conv2d(in_channels, 4, 3, padding=1), nn.ReLU(),
                         nn.Conv2d(4, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 4, 3, padding=1))


def _renamer(order):
    def rename(state):
        return {f'{order[k.split(".")[0]]}.{k.split(".", 1)[1]}': v for k, v in state.items()}
    return rename


def _adapter(name, order):
    return BackboneAdapter(
        name=name, rename=_renamer(order),
        describe=lambda sd: dict(in_channels=int(sd['0.weight'].shape[1]), target='toy Sequential'),
        build_target=lambda meta: ToyTarget(meta['in_channels']),
        build_source=lambda meta: ToyEncoder(meta['in_channels']),
        prefixes=('backbone.', 'encoder.'), host='toyhost', title_keys=('in_channels', ),
        input_hw=(8, 8))


@pytest.fixture
def toy_adapters():
    right = register_adapter(_adapter('toy', dict(stem=0, a=2, b=4)))
    swapped = register_adapter(_adapter('toy-swapped', dict(stem=0, a=4, b=2)))  # a bug
    yield right, swapped
    ADAPTERS.pop('toy')
    ADAPTERS.pop('toy-swapped')


@pytest.fixture
def pretrained(tmp_path):
    torch.manual_seed(0)
    encoder, decoder = ToyEncoder(), nn.Conv2d(4, 1, 1)
    state = {f'encoder.{k}': v for k, v in encoder.state_dict().items()}
    state.update({f'decoder.{k}': v for k, v in decoder.state_dict().items()})
    path = str(tmp_path / 'genesis.pth')
    torch.save({'state_dict': state, 'meta': {'epoch': 7}}, path)
    return path, encoder


def test_toy_adapter_converts_and_verifies(toy_adapters, pretrained, tmp_path, capsys):
    src, encoder = pretrained
    dst = str(tmp_path / 'out' / 'backbone.pth')
    state, meta = convert_checkpoint(src, dst, adapter='toy', verify=True)
    assert list(state) == ['0.weight', '0.bias', '2.weight', '2.bias', '4.weight', '4.bias']
    assert torch.equal(state['4.weight'], encoder.b.weight)
    assert (meta['adapter'], meta['dropped'], meta['epoch'], meta['in_channels']) == (
        'toy', 'decoder', 7, 2)
    assert meta['verified'] == (
        'loads into toyhost ToyTarget(in_channels=2), 6 keys with 0 missing, 0 unexpected, all '
        'tensors equal; 1 outputs equal on a fixed 1x2x8x8 input (eval mode)')
    saved = torch.load(dst, weights_only=True)
    assert saved['meta'] == meta and set(saved['state_dict']) == set(state)
    target = ToyTarget()
    target.load_state_dict(saved['state_dict'])
    x = torch.randn(2, 2, 8, 8)
    assert torch.equal(target(x), encoder(x))
    # the command line takes any registered adapter by name
    assert main([src, str(tmp_path / 'cli.pth'), '--verify', '--adapter', 'toy']) == 0
    assert 'verified: loads into toyhost ToyTarget' in capsys.readouterr().out


def test_swapped_layers_pass_keys_but_fail_outputs(toy_adapters, pretrained, tmp_path):
    src, _ = pretrained
    dst = str(tmp_path / 'swapped.pth')
    state, _ = convert_checkpoint(src, dst, adapter='toy-swapped')  # unverified: written
    ToyTarget().load_state_dict(state)  # every key and shape fits ...
    with pytest.raises(ValueError, match=r'verification failed, .*not written: output 0 '
                       r'differs on a fixed 1x2x8x8 input: largest absolute difference'):
        convert_checkpoint(src, str(tmp_path / 'checked.pth'), adapter='toy-swapped',
                           verify=True)  # ... but the outputs do not
    assert not osp.exists(tmp_path / 'checked.pth')


def test_registry_errors(toy_adapters, tmp_path):
    with pytest.raises(KeyError, match="'toy' is already registered"):
        register_adapter(toy_adapters[0])
    assert register_adapter(toy_adapters[0], force=True) is ADAPTERS['toy']
    with pytest.raises(KeyError, match=r"no backbone adapter 'vit'; registered: .*'resnet'"):
        get_adapter('vit')
    with pytest.raises(TypeError, match='BackboneAdapter'):
        register_adapter(dict(name='x'))
    torch.save({'state_dict': {'neck.w': torch.zeros(1)}}, tmp_path / 'n.pth')
    with pytest.raises(ValueError, match=r'no "backbone\.\*" or "encoder\.\*" keys .*\[\'neck\'\]'):
        convert_checkpoint(str(tmp_path / 'n.pth'), str(tmp_path / 'o.pth'), adapter='toy')
