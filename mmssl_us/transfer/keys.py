"""Key names of backbone checkpoints: take, rename, describe, and compare them with a model.

Nothing here imports torch: a state_dict is any mapping of names to objects with a ``shape``,
so the same functions serve the converter, ``VerifiedPretrained`` (mmseg) and the t-SNE loader.

ResNet key mapping (docs/ENVIRONMENT.md, trap 5): mmpretrain's ``ResNetV1c`` builds its deep stem
from ConvModules (``stem.{i}.conv.weight``, ``stem.{i}.bn.*``, i = 0, 1, 2) while mmseg's and
mmdet's is a plain ``Sequential(conv, bn, relu) x 3`` (``stem.{3i}.weight``, ``stem.{3i+1}.*``).
All other keys (``layer*``, and ``conv1`` / ``bn1`` of a 7x7-stem ResNet) are the same in both.
"""
import fnmatch
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Sequence, Tuple

__all__ = ['KeyReport', 'compare_keys', 'unwrap_state_dict', 'extract_backbone',
           'mmpretrain_to_mmseg_resnet', 'describe_resnet', 'resnet_key_hint']

_STEM = re.compile(r'^stem\.(\d+)\.(conv|bn)\.(.+)$')
#: blocks per stage -> depth, for the ResNets that mmseg / mmdet build
_DEPTHS = {(2, 2, 2, 2): 18, (3, 4, 6, 3): 34, (3, 4, 23, 3): 101, (3, 8, 36, 3): 152}


def _listing(keys: Sequence[str], limit: int) -> str:
    more = f', ... ({len(keys) - limit} more)' if len(keys) > limit else ''
    return ', '.join(keys[:limit]) + more


@dataclass
class KeyReport:
    """How a checkpoint's keys fit a model's: the result of :func:`compare_keys`.

    Attributes:
        missing (list[str]): Model keys the checkpoint lacks (not allowed to be missing).
        unexpected (list[str]): Checkpoint keys the model does not have.
        shapes (dict[str, tuple]): Keys in both with different shapes:
            ``key -> (checkpoint shape, model shape)``.
        allowed_missing (list[str]): Model keys the checkpoint lacks, as allowed.
        matched (int): Keys in both with equal shapes.
    """
    missing: List[str] = field(default_factory=list)
    unexpected: List[str] = field(default_factory=list)
    shapes: Dict[str, Tuple[tuple, tuple]] = field(default_factory=dict)
    allowed_missing: List[str] = field(default_factory=list)
    matched: int = 0

    @property
    def shape(self) -> List[str]:
        """Keys whose shapes differ."""
        return list(self.shapes)

    @property
    def ok(self) -> bool:
        """No missing (beyond those allowed), no unexpected and no mis-shaped key."""
        return not (self.missing or self.unexpected or self.shapes)

    def message(self, limit: int = 12) -> str:
        """``'1 missing: a; 2 unexpected: b, c; 1 shape: d: checkpoint (1,) vs model (2,)'``,
        the non-empty groups only, at most ``limit`` keys each."""
        groups = dict(missing=self.missing, unexpected=self.unexpected,
                      shape=[f'{k}: checkpoint {c} vs model {m}'
                             for k, (c, m) in self.shapes.items()])
        return '; '.join(f'{len(keys)} {name}: {_listing(keys, limit)}'
                         for name, keys in groups.items() if keys)

    def counts(self, limit: int = 8) -> str:
        """``"1 missing ['a'], 0 unexpected [], 0 mis-shaped []"``, every group."""
        return (f'{len(self.missing)} missing {self.missing[:limit]}, '
                f'{len(self.unexpected)} unexpected {self.unexpected[:limit]}, '
                f'{len(self.shapes)} mis-shaped {self.shape[:limit]}')


def compare_keys(expected: Mapping[str, Any], found: Mapping[str, Any],
                 allowed_missing: Sequence[str] = (),
                 allowed_unexpected: Sequence[str] = ()) -> KeyReport:
    """Compare the keys and shapes of a checkpoint (``found``) with a model's (``expected``).

    Args:
        expected (Mapping): The model's own ``state_dict()``.
        found (Mapping): The checkpoint's state dict.
        allowed_missing (Sequence[str]): ``fnmatch`` patterns of model keys that may be
            missing. Defaults to ().
        allowed_unexpected (Sequence[str]): ``fnmatch`` patterns of checkpoint keys the model
            may lack (e.g. ``'fc.*'``, the classifier of an ImageNet checkpoint taken as a
            backbone); they are left out of ``unexpected``. Defaults to ().

    Returns:
        KeyReport: Keys listed in the order of ``expected`` (missing, shapes) and of ``found``
        (unexpected).
    """
    report = KeyReport()
    for key, value in expected.items():
        if key not in found:
            allowed = any(fnmatch.fnmatchcase(key, p) for p in allowed_missing)
            (report.allowed_missing if allowed else report.missing).append(key)
        elif tuple(found[key].shape) != tuple(value.shape):
            report.shapes[key] = (tuple(found[key].shape), tuple(value.shape))
        else:
            report.matched += 1
    report.unexpected = [k for k in found if k not in expected and not any(
        fnmatch.fnmatchcase(k, p) for p in allowed_unexpected)]
    return report


def unwrap_state_dict(checkpoint: Mapping[str, Any]) -> 'OrderedDict[str, Any]':
    """The state dict of a checkpoint (its ``state_dict`` entry, else itself), with the
    ``module.`` prefix of a (D)DP-wrapped model removed."""
    state = checkpoint.get('state_dict', checkpoint)
    return OrderedDict((k[len('module.'):] if k.startswith('module.') else k, v)
                       for k, v in state.items())


def extract_backbone(state_dict: Mapping[str, Any],
                     prefix: str = 'backbone.') -> 'OrderedDict[str, Any]':
    """The ``prefix``-ed entries of a model state_dict, with the prefix removed.

    Args:
        state_dict (Mapping[str, Tensor]): A whole-model state_dict.
        prefix (str): Prefix of the online encoder's backbone. Defaults to 'backbone.'.

    Raises:
        ValueError: no key starts with ``prefix``; the message lists the prefixes present.
    """
    out = OrderedDict((k[len(prefix):], v) for k, v in state_dict.items() if k.startswith(prefix))
    if not out:
        heads = sorted({k.split('.', 1)[0] for k in state_dict})
        raise ValueError(f'no "{prefix}*" keys in the checkpoint (top-level names: {heads})')
    return out


def mmpretrain_to_mmseg_resnet(backbone: Mapping[str, Any]) -> 'OrderedDict[str, Any]':
    """Rename mmpretrain ResNet(V1c) backbone keys to mmseg/mmdet ResNet(V1c) keys.

    Args:
        backbone (Mapping[str, Tensor]): Backbone state_dict with mmpretrain key names.

    Returns:
        OrderedDict[str, Tensor]: The same tensors; ``stem.{i}.conv.*`` -> ``stem.{3i}.*`` and
        ``stem.{i}.bn.*`` -> ``stem.{3i+1}.*``, other keys unchanged.
    """
    out = OrderedDict()
    for key, value in backbone.items():
        m = _STEM.match(key)
        if m:
            idx, kind, rest = int(m.group(1)), m.group(2), m.group(3)
            key = f'stem.{3 * idx + (0 if kind == "conv" else 1)}.{rest}'
        out[key] = value
    return out


def describe_resnet(state_dict: Mapping[str, Any]) -> Dict[str, object]:
    """Infer ``depth``, ``deep_stem`` and ``in_channels`` of a ResNet backbone state_dict.

    Args:
        state_dict (Mapping[str, Tensor]): Backbone state_dict with mmseg/mmdet key names
            (``stem.0.weight``) or mmpretrain ones (``stem.0.conv.weight``).

    Raises:
        ValueError: the keys do not describe a ResNet-18/34/50/101/152.
    """
    blocks = []
    for stage in range(1, 5):
        ids = {int(k.split('.')[1]) for k in state_dict if k.startswith(f'layer{stage}.')}
        blocks.append(len(ids))
    bottleneck = any(k.endswith('.conv3.weight') for k in state_dict)
    depth = 50 if bottleneck and tuple(blocks) == (3, 4, 6, 3) else _DEPTHS.get(tuple(blocks))
    if depth is None or (depth >= 50) != bottleneck:
        raise ValueError(f'not a ResNet-18/34/50/101/152 backbone: blocks per stage {blocks}, '
                         f'bottleneck={bottleneck}')
    first = [k for k in ('stem.0.weight', 'stem.0.conv.weight', 'conv1.weight') if k in state_dict]
    if not first:
        raise ValueError('no stem in the backbone keys (neither stem.0.* nor conv1.*)')
    return dict(depth=depth, deep_stem=first[0].startswith('stem.'),
                in_channels=int(state_dict[first[0]].shape[1]))


def _has(keys: Sequence[str], pattern: str) -> bool:
    return any(re.match(pattern, k) for k in keys)


def resnet_key_hint(expected: Sequence[str], found: Sequence[str]) -> str:
    """What to change when a ResNet checkpoint's keys (``found``) miss a ResNet's (``expected``).

    Recognises the known mismatches between hosts and stems (docs/ENVIRONMENT.md, trap 5): a
    deep stem against a 7x7 one and back, mmpretrain's ConvModule stem names against mmseg's /
    mmdet's Sequential ones, and ResNetV1d's average-pool downsampling. Host-free and torch-free.

    Args:
        expected (Sequence[str]): The module's keys.
        found (Sequence[str]): The checkpoint's keys (prefix already removed).

    Returns:
        str: A sentence naming the setting that fits, or '' when nothing is recognised.
    """
    deep_ckpt = _has(found, r'stem\.\d+\.')
    seven_ckpt = 'conv1.weight' in found
    deep_model = _has(expected, r'stem\.\d+\.')
    seven_model = 'conv1.weight' in expected
    if deep_ckpt and seven_model:
        return ('the checkpoint has a deep stem (three 3x3 convolutions, stem.*) and the model a '
                '7x7 one (conv1): use a deep-stem backbone, mmdet ResNet(deep_stem=True) or '
                'mmseg / mmpretrain ResNetV1c, or pretrain a 7x7-stem ResNet '
                '(configs/densecl/densecl_resnet50-plain_1xb32-coslr-200e_knee.py)')
    if seven_ckpt and deep_model:
        return ('the checkpoint has a 7x7 stem (conv1) and the model a deep stem (stem.*): use '
                'ResNet with deep_stem=False (the default of mmdet, mmseg and mmpretrain ResNet)')
    if _has(found, r'stem\.\d+\.(conv|bn)\.') and _has(expected, r'stem\.\d+\.(weight|bias)'):
        return ('the checkpoint has mmpretrain\'s stem names (stem.0.conv.*) and the model '
                'mmseg\'s / mmdet\'s (stem.0.*): convert it with '
                '`python -m mmssl_us.transfer SRC DST --target mmseg` (or --target mmdet)')
    if _has(found, r'stem\.\d+\.(weight|bias)') and _has(expected, r'stem\.\d+\.(conv|bn)\.'):
        return ('the checkpoint has mmseg\'s / mmdet\'s stem names (stem.0.*) and the model '
                'mmpretrain\'s (stem.0.conv.*): convert the pretraining checkpoint with '
                '`python -m mmssl_us.transfer SRC DST --target mmpretrain`')
    if _has(expected, r'layer\d\.0\.downsample\.2\.') and \
            not _has(found, r'layer\d\.0\.downsample\.2\.'):
        return ('the model averages before its downsampling convolutions (ResNetV1d, '
                'avg_down=True), the checkpoint does not: use ResNet(deep_stem=True) in mmdet, '
                'ResNetV1c in mmseg / mmpretrain')
    return ''
