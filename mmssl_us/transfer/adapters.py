"""Backbone adapters: what the transfer step needs to know about one backbone family and host.

An adapter names where the online encoder sits in a pretraining checkpoint (its key prefixes),
how its keys are renamed for the target host, how the architecture is read back from the
renamed keys (saved in the file's meta), and how to build the host's backbone (and, for the
output check, the pretraining side's) to verify the result. The converter and its callers only
pass an adapter's name, so a new family (say the encoder of a Models Genesis restorative model,
prefix ``'encoder.'``) is one :func:`register_adapter` call away.

Host libraries are imported inside the ``build_*`` functions only, when a verification runs.
"""
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Dict, Mapping, Optional, Tuple

from .keys import describe_resnet, mmpretrain_to_mmseg_resnet

if TYPE_CHECKING:  # for annotations only
    from torch import nn

__all__ = ['BackboneAdapter', 'ADAPTERS', 'register_adapter', 'get_adapter']

StateDict = Mapping[str, Any]


@dataclass(frozen=True)
class BackboneAdapter:
    """One backbone family crossing from a pretraining checkpoint to one host.

    Args:
        name (str): Registry key, e.g. ``'resnet'``.
        rename (Callable): Source-named backbone state_dict -> target-named one.
        describe (Callable): Target-named state_dict -> plain ``str``/``int``/``bool`` facts for
            the meta (whatever ``build_target`` needs, and ``in_channels`` for the output check;
            a ``target`` entry names the host class family).
        build_target (Callable): meta -> the host's backbone module (imports the host lazily).
        build_source (Callable, optional): meta -> the pretraining library's backbone, for the
            output check (same outputs on a fixed input). None skips that check.
            Defaults to None.
        prefixes (tuple[str]): Where the online encoder sits in the whole-model checkpoint;
            the first one present is taken. Defaults to ``('backbone.',)``.
        host (str): Host named in messages. Defaults to 'mmseg'.
        title_keys (tuple[str]): Meta entries shown with the class name in messages.
            Defaults to ().
        input_hw (tuple[int, int]): Spatial size of the fixed test input. Defaults to (64, 64).
    """
    name: str
    rename: Callable[[StateDict], Dict[str, Any]]
    describe: Callable[[StateDict], Dict[str, Any]]
    build_target: Callable[[Mapping[str, Any]], 'nn.Module']
    build_source: Optional[Callable[[Mapping[str, Any]], 'nn.Module']] = None
    prefixes: Tuple[str, ...] = ('backbone.', )
    host: str = 'mmseg'
    title_keys: Tuple[str, ...] = ()
    input_hw: Tuple[int, int] = (64, 64)

    def title(self, module: 'nn.Module', meta: Mapping[str, Any]) -> str:
        """``'mmseg ResNetV1c(depth=18)'``: the host, the class and the ``title_keys``."""
        args = ', '.join(f'{k}={meta[k]}' for k in self.title_keys if k in meta)
        return f'{self.host} {type(module).__name__}({args})'


#: name -> adapter; add to it with :func:`register_adapter`
ADAPTERS: Dict[str, BackboneAdapter] = {}


def register_adapter(adapter: BackboneAdapter, force: bool = False) -> BackboneAdapter:
    """Add ``adapter`` under its name (``force`` replaces an existing one); return it."""
    if not isinstance(adapter, BackboneAdapter):
        raise TypeError(f'expected a BackboneAdapter, got {type(adapter).__name__}')
    if adapter.name in ADAPTERS and not force:
        raise KeyError(f'backbone adapter {adapter.name!r} is already registered')
    ADAPTERS[adapter.name] = adapter
    return adapter


def get_adapter(name: str) -> BackboneAdapter:
    """The registered adapter ``name``; the error lists the registered names."""
    try:
        return ADAPTERS[name]
    except KeyError:
        raise KeyError(f'no backbone adapter {name!r}; registered: {sorted(ADAPTERS)}') from None


def _describe_resnet(state_dict: StateDict) -> Dict[str, Any]:
    facts = describe_resnet(state_dict)
    facts['target'] = 'mmseg/mmdet ' + ('ResNetV1c' if facts['deep_stem'] else 'ResNet')
    return facts


def _mmseg_resnet(meta: Mapping[str, Any]) -> 'nn.Module':
    """mmseg's ResNetV1c (ResNet for a 7x7 stem) like the checkpoint, all four stages out.

    Strides and dilations are the defaults: FCN/DeepLab's dilated layout (1, 1, 2, 4) changes no
    key or shape, and the plain one gives outputs comparable with mmpretrain's.
    """
    from mmseg.models.backbones import ResNet, ResNetV1c
    cls = ResNetV1c if meta['deep_stem'] else ResNet
    return cls(depth=meta['depth'], in_channels=meta['in_channels'], out_indices=(0, 1, 2, 3))


def _mmpretrain_resnet(meta: Mapping[str, Any]) -> 'nn.Module':
    """mmpretrain's ResNetV1c (ResNet for a 7x7 stem): the network that was pretrained."""
    from mmpretrain.models.backbones import ResNet, ResNetV1c
    cls = ResNetV1c if meta['deep_stem'] else ResNet
    return cls(depth=meta['depth'], in_channels=meta['in_channels'], out_indices=(0, 1, 2, 3))


register_adapter(BackboneAdapter(
    name='resnet', rename=mmpretrain_to_mmseg_resnet, describe=_describe_resnet,
    build_target=_mmseg_resnet, build_source=_mmpretrain_resnet, title_keys=('depth', )))
