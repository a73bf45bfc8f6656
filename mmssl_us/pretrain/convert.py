"""Pretraining checkpoint -> backbone checkpoint that mmseg / mmdet ResNets load key for key.

What is kept: ``backbone.*`` of the online (query) encoder, the encoder that every supported
method (DenseCL, MoCo v2, SimCLR, BYOL) trains by gradient. What is dropped: the momentum / target
encoder (``encoder_k.*``, ``target_net.*``), necks, heads, queues and the pre-processor.

Key mapping (ENVIRONMENT.md, trap 5): mmpretrain's ``ResNetV1c`` builds its deep stem from
ConvModules (``stem.{i}.conv.weight``, ``stem.{i}.bn.*``, i = 0, 1, 2) while mmseg's / mmdet's is
a plain ``Sequential(conv, bn, relu) x 3`` (``stem.{3i}.weight``, ``stem.{3i+1}.*``). All other
keys (``layer*``, and ``conv1`` / ``bn1`` of a 7x7-stem ResNet) are the same in both.

The output is ``{'state_dict': {key: tensor}, 'meta': {...plain str/int...}}``: it loads with
``torch.load(weights_only=True)`` and through ``init_cfg=dict(type='Pretrained', checkpoint=...)``
on the backbone (no ``prefix``: the keys are already bare backbone keys; ``prefix='backbone.'``
is for whole-model checkpoints). mmdet's ``ResNet(deep_stem=True)`` builds its stem the same way
as mmseg's, but mmdet is not installed here, so only mmseg is tested. Only torch is imported
here (never mmseg).
"""
import os
import os.path as osp
import re
from collections import OrderedDict
from typing import Dict, Mapping, Tuple

import torch

_STEM = re.compile(r'^stem\.(\d+)\.(conv|bn)\.(.+)$')
#: blocks per stage -> depth, for the ResNets that mmseg / mmdet build
_DEPTHS = {(2, 2, 2, 2): 18, (3, 4, 6, 3): 34, (3, 4, 23, 3): 101, (3, 8, 36, 3): 152}


def extract_backbone(state_dict: Mapping[str, torch.Tensor],
                     prefix: str = 'backbone.') -> 'OrderedDict[str, torch.Tensor]':
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


def mmpretrain_to_mmseg_resnet(backbone: Mapping[str, torch.Tensor]
                               ) -> 'OrderedDict[str, torch.Tensor]':
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


def describe_resnet(state_dict: Mapping[str, torch.Tensor]) -> Dict[str, object]:
    """Infer ``depth``, ``deep_stem`` and ``in_channels`` of a converted ResNet state_dict.

    Args:
        state_dict (Mapping[str, Tensor]): Backbone state_dict with mmseg key names.

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
    deep_stem = 'stem.0.weight' in state_dict
    first_conv = state_dict['stem.0.weight' if deep_stem else 'conv1.weight']
    return dict(depth=depth, deep_stem=deep_stem, in_channels=int(first_conv.shape[1]))


def load_and_verify(module: torch.nn.Module, state_dict: Mapping[str, torch.Tensor]) -> None:
    """Load ``state_dict`` into ``module`` and check that it fits exactly.

    Args:
        module (nn.Module): The target backbone (e.g. mmseg's ResNetV1c).
        state_dict (Mapping[str, Tensor]): The converted weights.

    Raises:
        ValueError: a key of the module is missing from ``state_dict``, a key of
            ``state_dict`` is not in the module, a shape differs, or a loaded tensor differs
            from its source; the message lists the offending keys.
    """
    try:
        result = module.load_state_dict(state_dict, strict=False)
    except RuntimeError as exc:  # shape mismatches raise even with strict=False
        raise ValueError(f'backbone weights do not fit {type(module).__name__}: {exc}') from None
    own = module.state_dict()
    differ = [k for k, v in state_dict.items() if k in own and not torch.equal(own[k].cpu(), v)]
    if result.missing_keys or result.unexpected_keys or differ:
        raise ValueError(
            f'backbone weights do not fit {type(module).__name__}: '
            f'{len(result.missing_keys)} missing {result.missing_keys[:8]}, '
            f'{len(result.unexpected_keys)} unexpected {result.unexpected_keys[:8]}, '
            f'{len(differ)} loaded but different {differ[:8]}')


def convert_checkpoint(src: str, dst: str) -> Tuple[Dict[str, torch.Tensor], dict]:
    """Convert pretraining checkpoint ``src`` and save the backbone checkpoint to ``dst``.

    ``src`` is loaded with ``weights_only=True`` (:func:`mmssl_us.checkpoint.safe_load`); it may
    be an mmengine checkpoint (``{'state_dict': ..., 'meta': ...}``) or a bare state_dict.

    Args:
        src (str): Pretraining checkpoint.
        dst (str): Output file (written atomically; folders are created).

    Returns:
        tuple[dict, dict]: the converted state_dict and the meta saved with it.
    """
    from mmssl_us.checkpoint import safe_load
    ckpt = safe_load(src, map_location='cpu')
    if not isinstance(ckpt, Mapping):
        raise ValueError(f'{src}: expected a checkpoint dict, got {type(ckpt).__name__}')
    state = ckpt.get('state_dict', ckpt)
    try:
        backbone = mmpretrain_to_mmseg_resnet(extract_backbone(state))
        shape = describe_resnet(backbone)
    except ValueError as exc:
        raise ValueError(f'{src}: {exc}') from None
    src_meta = ckpt.get('meta') or {}
    dropped = sorted({k.split('.', 1)[0] for k in state if not k.startswith('backbone.')})
    meta = dict(
        source=osp.abspath(src),
        converter='mmssl_us.pretrain.convert',
        target='mmseg/mmdet ResNetV1c' if shape['deep_stem'] else 'mmseg/mmdet ResNet',
        depth=shape['depth'], deep_stem=shape['deep_stem'], in_channels=shape['in_channels'],
        num_keys=len(backbone), dropped=', '.join(dropped),
        epoch=int(src_meta.get('epoch', -1)) if isinstance(src_meta, Mapping) else -1,
        iter=int(src_meta.get('iter', -1)) if isinstance(src_meta, Mapping) else -1)
    tensors = OrderedDict((k, v.detach().cpu().contiguous()) for k, v in backbone.items())
    os.makedirs(osp.dirname(osp.abspath(dst)), exist_ok=True)
    tmp = dst + '.tmp'
    torch.save({'state_dict': tensors, 'meta': meta}, tmp)
    os.replace(tmp, dst)
    return tensors, meta
