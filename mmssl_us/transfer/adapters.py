"""Backbone adapters: what the transfer step needs to know about one backbone family and host.

An adapter names where the online encoder sits in a pretraining checkpoint (its key prefixes),
how its keys are renamed for the target host, how the architecture is read back from the
renamed keys (saved in the file's meta), and how to build the host's backbone (and, for the
output check, the pretraining side's) to verify the result. The converter and its callers only
pass an adapter's name, so a new family (an encoder that is not a ResNet, or one kept under
another prefix such as ``'encoder.'``) is one :func:`register_adapter` call away. Our Models
Genesis keeps its ResNet encoder under ``backbone.``, so the ResNet adapters convert it as they
are.

The ResNet family has one adapter per host: ``'resnet'`` (mmseg: ``ResNetV1c`` / ``ResNet``,
Sequential stem names), ``'resnet-mmdet'`` (``ResNet(deep_stem=True)`` / ``ResNet``, the same
names; mmdet has no ResNetV1c and ResNetV1d's ``avg_down`` does not fit) and
``'resnet-mmpretrain'`` (``ResNetV1c`` / ``ResNet``, the pretraining's own names);
:func:`find_adapter` picks one by family and host (``--target``). Their ``fit`` refuses a
requested host backbone the weights cannot fit exactly and names the one that fits.

Host libraries are imported inside the ``build_*`` functions only, when a verification runs.
"""
from dataclasses import dataclass
import re
from collections import OrderedDict
from typing import TYPE_CHECKING, Any, Callable, Dict, Mapping, Optional, Tuple

from .keys import describe_resnet, mmpretrain_to_mmseg_resnet

if TYPE_CHECKING:  # for annotations only
    from torch import nn

__all__ = ['BackboneAdapter', 'ADAPTERS', 'register_adapter', 'get_adapter', 'find_adapter',
           'HOSTS', 'parse_backbone_request']

#: the hosts the ResNet family is converted for (``--target``)
HOSTS = ('mmseg', 'mmdet', 'mmpretrain')

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
        family (str): Backbone family shared by the adapters of one network for different
            hosts (``--adapter resnet --target mmdet`` finds family 'resnet', host 'mmdet').
            Defaults to '' (the name).
        fit (Callable, optional): ``(facts, request) -> dict``: checks that the converted
            weights fit the host backbone the user asked for (``request``, e.g.
            ``'ResNet(deep_stem=False)'``, or None for "whatever fits") and returns meta
            entries naming the fitting backbone; raises ValueError naming the setting that
            fits instead. None accepts everything. Defaults to None.
        allowed_missing (tuple[str]): ``fnmatch`` patterns of target keys the file leaves to
            the fine-tuning (the UNet's ``'decoder.*'``): verification requires every other
            key and lists these; they go into ``meta['allowed_missing']`` (comma-separated),
            which :func:`mmssl_us.transfer.init.pretrained_init_cfg` passes on to
            ``VerifiedPretrained``. Defaults to () (the file is the whole backbone).
        compared (Callable, optional): target module -> the module whose outputs are compared
            with the source's (the UNet's encoder path). None compares the target itself.
            Defaults to None.
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
    family: str = ''
    fit: Optional[Callable[[Mapping[str, Any], Optional[str]], Dict[str, Any]]] = None
    allowed_missing: Tuple[str, ...] = ()
    compared: Optional[Callable[['nn.Module'], 'nn.Module']] = None

    def __post_init__(self) -> None:
        if not self.family:
            object.__setattr__(self, 'family', self.name)

    def title(self, module: 'nn.Module', meta: Mapping[str, Any]) -> str:
        """``'mmseg ResNetV1c(depth=18)'``: the host, the class and the ``title_keys``."""
        args = ', '.join(f'{k}={meta[k]}' for k in self.title_keys if k in meta)
        return f'{self.host} {type(module).__name__}({args})'


#: name -> adapter (families x hosts); add to it with :func:`register_adapter`
ADAPTERS: Dict[str, BackboneAdapter] = {}


def register_adapter(adapter: BackboneAdapter, force: bool = False) -> BackboneAdapter:
    """Add ``adapter`` under its name (``force`` replaces an existing one); return it."""
    if not isinstance(adapter, BackboneAdapter):
        raise TypeError(f'expected a BackboneAdapter, got {type(adapter).__name__}')
    if adapter.name in ADAPTERS and not force:
        raise KeyError(f'backbone adapter {adapter.name!r} is already registered')
    ADAPTERS[adapter.name] = adapter
    return adapter


def find_adapter(family: str, host: str) -> BackboneAdapter:
    """The adapter of backbone ``family`` for ``host``; the error lists the hosts there are."""
    found = [a for a in ADAPTERS.values() if a.family == family and a.host == host]
    if not found:
        hosts = sorted(a.host for a in ADAPTERS.values() if a.family == family)
        raise KeyError(f'no {family!r} backbone adapter for host {host!r}; hosts: {hosts}')
    return found[0]


def get_adapter(name: str) -> BackboneAdapter:
    """The registered adapter ``name``; the error lists the registered names."""
    try:
        return ADAPTERS[name]
    except KeyError:
        raise KeyError(f'no backbone adapter {name!r}; registered: {sorted(ADAPTERS)}') from None


_REQUEST = re.compile(r'^\s*(\w+)\s*(?:\((.*)\))?\s*$')
#: class -> (deep_stem, avg_down) as the hosts define them
_RESNET_CLASSES = dict(ResNet=(False, False), ResNetV1c=(True, False), ResNetV1d=(True, True))
#: the ResNet classes each host has
_HOST_CLASSES = dict(mmseg=('ResNet', 'ResNetV1c', 'ResNetV1d'), mmdet=('ResNet', 'ResNetV1d'),
                     mmpretrain=('ResNet', 'ResNetV1c', 'ResNetV1d'))


def parse_backbone_request(text: str) -> Tuple[str, Dict[str, Any]]:
    """``'ResNet(deep_stem=True, avg_down=False)'`` -> ``('ResNet', {'deep_stem': True, ...})``.

    Values may be ``True``/``False`` or integers; anything else is refused.

    Raises:
        ValueError: the text is not ``Name`` or ``Name(key=value, ...)``.
    """
    m = _REQUEST.match(text or '')
    if not m:
        raise ValueError(f'backbone {text!r}: expected a class name, optionally with settings, '
                         "e.g. 'ResNet' or 'ResNet(deep_stem=True)'")
    kwargs: Dict[str, Any] = {}
    for item in filter(None, (x.strip() for x in (m.group(2) or '').split(','))):
        key, sep, value = (x.strip() for x in item.partition('='))
        if not sep or not key.isidentifier():
            raise ValueError(f'backbone {text!r}: {item!r} is not key=value')
        if value in ('True', 'False'):
            kwargs[key] = value == 'True'
        elif re.fullmatch(r'-?\d+', value):
            kwargs[key] = int(value)
        else:
            raise ValueError(f'backbone {text!r}: {key}={value} is neither True/False nor an '
                             'integer')
    return m.group(1), kwargs


def _resnet_cfg(host: str, depth: int, deep_stem: bool) -> 'OrderedDict[str, Any]':
    """The host backbone config that fits: type and the settings that differ from it."""
    if not deep_stem:
        return OrderedDict(type='ResNet', depth=depth)
    if host == 'mmdet':  # mmdet has no ResNetV1c; ResNetV1d adds avg_down
        return OrderedDict(type='ResNet', depth=depth, deep_stem=True)
    return OrderedDict(type='ResNetV1c', depth=depth)


def _cfg_text(cfg: Mapping[str, Any]) -> str:
    return 'dict(' + ', '.join(f'{k}={v!r}' for k, v in cfg.items()) + ')'


def _fit_resnet(host: str) -> Callable[[Mapping[str, Any], Optional[str]], Dict[str, Any]]:
    """The ``fit`` check of the ResNet adapter for ``host`` (see :class:`BackboneAdapter`)."""

    def fit(facts: Mapping[str, Any], request: Optional[str]) -> Dict[str, Any]:
        depth, deep = int(facts['depth']), bool(facts['deep_stem'])
        fits = _resnet_cfg(host, depth, deep)
        fits_text = f'{host} ' + _cfg_text(fits)
        out = dict(backbone=_cfg_text(fits), target_type=fits['type'])
        if request is None:
            return out
        name, kwargs = parse_backbone_request(request)
        stem = 'a deep stem (three 3x3 convolutions)' if deep else 'a 7x7 stem'
        if name not in _RESNET_CLASSES:
            raise ValueError(f'backbone {request!r}: not a ResNet class of {host} '
                             f'({", ".join(_HOST_CLASSES[host])}); the weights fit {fits_text}')
        if name not in _HOST_CLASSES[host]:
            raise ValueError(f'{host} has no {name}: the weights ({stem}) fit {fits_text}')
        unknown = sorted(set(kwargs) - {'deep_stem', 'avg_down', 'depth'})
        if unknown:
            raise ValueError(f'backbone {request!r}: the converter checks deep_stem, avg_down '
                             f'and depth only, not {", ".join(unknown)}')
        want_deep, want_avg = _RESNET_CLASSES[name]
        want_deep = kwargs.get('deep_stem', want_deep)
        want_avg = kwargs.get('avg_down', want_avg)
        if kwargs.get('depth', depth) != depth:
            raise ValueError(f'backbone {request!r}: the checkpoint is a ResNet-{depth}; the '
                             f'weights fit {fits_text}')
        if want_avg:
            raise ValueError(
                f'backbone {request!r} averages before each downsampling convolution '
                '(avg_down=True, as ResNetV1d): its keys and outputs differ from the pretrained '
                f'network, which has no such pooling. The weights ({stem}) fit {fits_text}')
        if want_deep != deep:
            wanted = 'a deep stem' if want_deep else 'a 7x7 stem'
            setting = ('deep_stem=True' if deep else 'deep_stem=False') + \
                (' (or ResNetV1c)' if deep and host != 'mmdet' else '')
            raise ValueError(
                f'backbone {request!r} has {wanted} but the checkpoint {stem}: no renaming makes '
                f'them fit exactly. Set {setting}, i.e. use {fits_text}' +
                ('; or pretrain a 7x7-stem ResNet with '
                 'configs/densecl/densecl_resnet50-plain_1xb32-coslr-200e_knee.py'
                 if deep else ''))
        return out

    return fit


def _describe_resnet(state_dict: StateDict) -> Dict[str, Any]:
    return dict(describe_resnet(state_dict))


def _mmseg_resnet(meta: Mapping[str, Any]) -> 'nn.Module':
    """mmseg's ResNetV1c (ResNet for a 7x7 stem) like the checkpoint, all four stages out.

    Strides and dilations are the defaults: FCN/DeepLab's dilated layout (1, 1, 2, 4) changes no
    key or shape, and the plain one gives outputs comparable with mmpretrain's.
    """
    from mmseg.models.backbones import ResNet, ResNetV1c
    cls = ResNetV1c if meta['deep_stem'] else ResNet
    return cls(depth=meta['depth'], in_channels=meta['in_channels'], out_indices=(0, 1, 2, 3))


def _mmdet_resnet(meta: Mapping[str, Any]) -> 'nn.Module':
    """mmdet's ResNet with ``deep_stem`` as the checkpoint's (mmdet has no ResNetV1c)."""
    from mmdet.models.backbones import ResNet
    return ResNet(depth=meta['depth'], in_channels=meta['in_channels'],
                  deep_stem=bool(meta['deep_stem']), out_indices=(0, 1, 2, 3))


def _mmpretrain_resnet(meta: Mapping[str, Any]) -> 'nn.Module':
    """mmpretrain's ResNetV1c (ResNet for a 7x7 stem): the network that was pretrained."""
    from mmpretrain.models.backbones import ResNet, ResNetV1c
    cls = ResNetV1c if meta['deep_stem'] else ResNet
    return cls(depth=meta['depth'], in_channels=meta['in_channels'], out_indices=(0, 1, 2, 3))


def _same_names(state_dict: StateDict) -> Dict[str, Any]:
    """mmpretrain -> mmpretrain: the keys stay as the pretraining named them."""
    return OrderedDict(state_dict)


register_adapter(BackboneAdapter(
    name='resnet', rename=mmpretrain_to_mmseg_resnet, describe=_describe_resnet,
    build_target=_mmseg_resnet, build_source=_mmpretrain_resnet, title_keys=('depth', ),
    host='mmseg', fit=_fit_resnet('mmseg')))
register_adapter(BackboneAdapter(
    name='resnet-mmdet', family='resnet', rename=mmpretrain_to_mmseg_resnet,
    describe=_describe_resnet, build_target=_mmdet_resnet, build_source=_mmpretrain_resnet,
    title_keys=('depth', 'deep_stem'), host='mmdet', fit=_fit_resnet('mmdet')))
register_adapter(BackboneAdapter(
    name='resnet-mmpretrain', family='resnet', rename=_same_names, describe=_describe_resnet,
    build_target=_mmpretrain_resnet, build_source=_mmpretrain_resnet, title_keys=('depth', ),
    host='mmpretrain', fit=_fit_resnet('mmpretrain')))


# ---------------------------------------------------------------------------------------------
# mmseg's UNet: the encoder pretrained (mmssl_us.pretrain.models.UNetEncoder, the same names),
# the decoder left to the fine-tuning.
_UNET_KEY = re.compile(r'^encoder\.(\d+)\.(\d+)\.convs\.(\d+)\.(conv|bn)\.(.+)$')


def _unet_encoder_keys(state_dict: StateDict) -> Dict[str, Any]:
    """Identity renaming (the names are mmseg's already), refusing anything but the encoder."""
    other = [k for k in state_dict if not _UNET_KEY.match(k)]
    if other:
        raise ValueError(f'{len(other)} backbone keys are not UNet encoder keys '
                         f'(encoder.<stage>.<block>.convs.<conv>.conv|bn.*): {other[:6]}; '
                         'the unet adapter takes an mmssl_us UNetEncoder pretraining')
    return OrderedDict(state_dict)


def _describe_unet(state_dict: StateDict) -> Dict[str, Any]:
    """The UNet encoder's shape from its keys: stages, widths, convolutions, pooling, norm.

    Strides and dilations are not in the weights: the layout is read as mmseg's default
    (pooling stages, strides 1, dilations 1); a stage with no pooling is ``downsamples`` False.
    """
    convs: Dict[int, Dict[int, Any]] = {}
    block: Dict[int, int] = {}
    norm = False
    for key, value in state_dict.items():
        m = _UNET_KEY.match(key)
        if m is None:
            raise ValueError(f'not a UNet encoder key: {key}')
        stage, blk, conv = int(m.group(1)), int(m.group(2)), int(m.group(3))
        block.setdefault(stage, blk)
        if block[stage] != blk:
            raise ValueError(f'UNet encoder stage {stage} has blocks {block[stage]} and {blk}')
        norm |= m.group(4) == 'bn'
        if m.group(4) == 'conv' and m.group(5) == 'weight':
            convs.setdefault(stage, {})[conv] = tuple(value.shape)
    n = len(convs)
    if n == 0 or sorted(convs) != list(range(n)):
        raise ValueError(f'UNet encoder stages {sorted(convs)}: expected 0..{n - 1}')
    first = convs[0][0]
    base, in_channels = int(first[0]), int(first[1])
    num_convs = []
    for i in range(n):
        if sorted(convs[i]) != list(range(len(convs[i]))):
            raise ValueError(f'UNet encoder stage {i}: convolutions {sorted(convs[i])}')
        if int(convs[i][0][0]) != base * 2**i:
            raise ValueError(f'UNet encoder stage {i} has {convs[i][0][0]} channels, not '
                             f'base_channels * 2**{i} = {base * 2**i}')
        num_convs.append(len(convs[i]))
    downsamples = [block[i] == 1 for i in range(1, n)]
    return dict(target='UNet', in_channels=in_channels, base_channels=base, num_stages=n,
                enc_num_convs=','.join(map(str, num_convs)),
                downsamples=','.join(str(int(d)) for d in downsamples), norm=bool(norm))


def _unet_kwargs(meta: Mapping[str, Any]) -> Dict[str, Any]:
    n = int(meta['num_stages'])
    return dict(in_channels=int(meta['in_channels']), base_channels=int(meta['base_channels']),
                num_stages=n, strides=(1, ) * n,
                enc_num_convs=tuple(int(c) for c in str(meta['enc_num_convs']).split(',')),
                downsamples=tuple(d == '1' for d in str(meta['downsamples']).split(',') if d),
                enc_dilations=(1, ) * n,
                norm_cfg=dict(type='BN') if meta.get('norm', True) else None)


def _fit_unet(facts: Mapping[str, Any], request: Optional[str]) -> Dict[str, Any]:
    kw = _unet_kwargs(facts)
    fits = OrderedDict(type='UNet', in_channels=kw['in_channels'],
                       base_channels=kw['base_channels'], num_stages=kw['num_stages'],
                       enc_num_convs=kw['enc_num_convs'], downsamples=kw['downsamples'])
    out = dict(backbone=_cfg_text(fits), target_type='UNet')
    if request is None:
        return out
    name, kwargs = parse_backbone_request(request)
    if name != 'UNet':
        raise ValueError(f'backbone {request!r}: the checkpoint is a UNet encoder; the weights '
                         f'fit mmseg {_cfg_text(fits)}')
    for key, value in kwargs.items():
        if key not in ('in_channels', 'base_channels', 'num_stages'):
            raise ValueError(f'backbone {request!r}: the converter checks in_channels, '
                             f'base_channels and num_stages only, not {key}')
        if value != fits[key]:
            raise ValueError(f'backbone {request!r}: {key}={value}, but the checkpoint has '
                             f'{key}={fits[key]}; the weights fit mmseg {_cfg_text(fits)}')
    return out


def _mmseg_unet(meta: Mapping[str, Any]) -> 'nn.Module':
    """mmseg's whole UNet like the checkpoint's encoder (decoder: mmseg's defaults)."""
    from mmengine.registry import DefaultScope
    from mmseg.models.backbones import UNet
    kw = _unet_kwargs(meta)
    n = kw['num_stages']
    with DefaultScope.overwrite_default_scope('mmseg'):  # its InterpConv is in mmseg's MODELS
        return UNet(**kw, dec_num_convs=(2, ) * (n - 1), dec_dilations=(1, ) * (n - 1))


def _pretrain_unet_encoder(meta: Mapping[str, Any]) -> 'nn.Module':
    """The pretraining side's UNetEncoder like the checkpoint, every stage out."""
    from ..pretrain.models.unet_encoder import UNetEncoder
    kw = _unet_kwargs(meta)
    return UNetEncoder(**kw, out_indices=tuple(range(kw['num_stages'])))


def _unet_encoder_path(unet: 'nn.Module') -> 'nn.Module':
    """The contracting path of an mmseg UNet as a module returning every stage's output."""
    from torch import nn

    class EncoderPath(nn.Module):

        def __init__(self, encoder: nn.ModuleList) -> None:
            super().__init__()
            self.encoder = encoder

        def forward(self, x):
            outs = []
            for stage in self.encoder:
                x = stage(x)
                outs.append(x)
            return tuple(outs)

    return EncoderPath(unet.encoder)


register_adapter(BackboneAdapter(
    name='unet', rename=_unet_encoder_keys, describe=_describe_unet, build_target=_mmseg_unet,
    build_source=_pretrain_unet_encoder, title_keys=('base_channels', 'num_stages'),
    host='mmseg', fit=_fit_unet, allowed_missing=('decoder.*', ),
    compared=_unet_encoder_path))
