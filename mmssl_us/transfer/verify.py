"""Prove that a converted backbone is the pretrained one: keys, tensors, and outputs.

:func:`verify_backbone` builds the target host's backbone through the adapter (the host is
imported only then), loads the converted weights and requires 0 missing, 0 unexpected and
0 mis-shaped keys and every loaded tensor equal to its source. When the adapter can also build
the pretraining library's backbone, both networks run in eval mode on one fixed input and their
outputs must be equal: a renaming that swaps two same-shaped layers passes every key check but
not this one.
"""
from typing import Any, List, Mapping, Optional, Sequence

import torch

from .adapters import BackboneAdapter, get_adapter
from .keys import compare_keys

__all__ = ['load_and_verify', 'compare_outputs', 'verify_backbone']


def load_and_verify(module: torch.nn.Module, state_dict: Mapping[str, torch.Tensor],
                    allowed_missing: Sequence[str] = ()) -> List[str]:
    """Load ``state_dict`` into ``module`` and check that it fits exactly.

    Args:
        module (nn.Module): The target backbone (e.g. mmseg's ResNetV1c).
        state_dict (Mapping[str, Tensor]): The converted weights.
        allowed_missing (Sequence[str]): ``fnmatch`` patterns of module keys that may be
            missing (the UNet's decoder). Defaults to ().

    Returns:
        list[str]: The module keys left missing, as allowed.

    Raises:
        ValueError: a key of the module is missing from ``state_dict``, a key of
            ``state_dict`` is not in the module, a shape differs, or a loaded tensor differs
            from its source; the message lists the offending keys.
    """
    name = type(module).__name__
    report = compare_keys(module.state_dict(), state_dict, allowed_missing)
    if not report.ok:
        raise ValueError(f'backbone weights do not fit {name}: {report.counts()}')
    if allowed_missing and not report.matched:
        raise ValueError(f'backbone weights do not fit {name}: no key matched, only '
                         f'{len(report.allowed_missing)} allowed-missing keys')
    module.load_state_dict(state_dict, strict=not report.allowed_missing)
    own = module.state_dict()
    differ = [k for k, v in state_dict.items() if not torch.equal(own[k].cpu(), v.cpu())]
    if differ:
        raise ValueError(f'backbone weights do not fit {name}: {len(differ)} loaded but '
                         f'different {differ[:8]}')
    return report.allowed_missing


def _tensors(output: Any) -> List[torch.Tensor]:
    """The tensors of a forward output (a tensor, or nested tuples / lists / dicts of them)."""
    if isinstance(output, torch.Tensor):
        return [output]
    if isinstance(output, Mapping):
        output = list(output.values())
    return [t for item in output for t in _tensors(item)]


def compare_outputs(source: torch.nn.Module, target: torch.nn.Module, x: torch.Tensor) -> str:
    """Run both modules in eval mode on ``x``; raise unless every output tensor is equal.

    Returns:
        str: ``'N outputs equal on a fixed 1x3x64x64 input (eval mode)'``.

    Raises:
        ValueError: the number, a shape or a value of the outputs differs (the message gives the
            largest absolute difference).
    """
    for module in (source, target):
        module.eval()  # not chained: some backbones' train() returns None
    with torch.no_grad():
        outs = [_tensors(m(x)) for m in (source, target)]
    size = 'x'.join(map(str, x.shape))
    if len(outs[0]) != len(outs[1]):
        raise ValueError(f'{len(outs[0])} source vs {len(outs[1])} target outputs')
    for i, (a, b) in enumerate(zip(*outs)):
        if a.shape != b.shape:
            raise ValueError(f'output {i}: shape {tuple(a.shape)} (source) vs {tuple(b.shape)}')
        if not torch.equal(a, b):
            diff = (a.double() - b.double()).abs().max().item()
            raise ValueError(f'output {i} differs on a fixed {size} input: largest absolute '
                             f'difference {diff:.3g} (the renaming mixes up layers?)')
    return f'{len(outs[0])} outputs equal on a fixed {size} input (eval mode)'


def verify_backbone(state_dict: Mapping[str, torch.Tensor], meta: Mapping[str, Any],
                    adapter: Optional[BackboneAdapter] = None,
                    source_state: Optional[Mapping[str, torch.Tensor]] = None) -> str:
    """Check converted weights against the target host's backbone (and the source's outputs).

    Args:
        state_dict (Mapping[str, Tensor]): Converted (target-named) backbone weights.
        meta (Mapping): What the adapter's ``describe`` gave (``in_channels`` and what the
            builders need).
        adapter (BackboneAdapter, optional): Defaults to the adapter named by
            ``meta['adapter']``, else ``'resnet'``.
        source_state (Mapping[str, Tensor], optional): The same weights with the source's
            names; with the adapter's ``build_source``, enables the output check.
            Defaults to None.

    Returns:
        str: What was checked, e.g. ``'loads into mmseg ResNetV1c(depth=18), 132 keys with
        0 missing, 0 unexpected, all tensors equal; 4 outputs equal on ...'``.

    Raises:
        ValueError: any check fails; the message names the keys or the output.
    """
    adapter = adapter or get_adapter(meta.get('adapter', 'resnet'))
    target = adapter.build_target(meta)
    left = load_and_verify(target, state_dict, adapter.allowed_missing)
    gaps = (f' ({len(left)} left to the fine-tuning: {", ".join(adapter.allowed_missing)})'
            if left else '')
    text = (f'loads into {adapter.title(target, meta)}, {len(state_dict)} keys with 0 missing'
            f'{gaps}, 0 unexpected, all tensors equal')
    if adapter.build_source is None or source_state is None:
        return text + '; outputs not compared (no source network)'
    source = adapter.build_source(meta)
    load_and_verify(source, source_state)
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(1, int(meta['in_channels']), *adapter.input_hw, generator=gen)
    compared = adapter.compared(target) if adapter.compared is not None else target
    return text + '; ' + compare_outputs(source, compared, x)
