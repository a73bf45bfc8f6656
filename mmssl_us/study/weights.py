"""How far a pretraining moved a backbone: relative L2 change per stage, start -> end.

A pretrained backbone that fine-tunes better than random init may owe that to its init scheme
rather than to what it learnt (see the same-start control in :mod:`mmssl_us.study.runner`). The
weight change tells the two apart at a glance: a pretraining whose weights hardly moved cannot
have learnt much. Both files are backbone checkpoints written by the transfer step (bare keys:
``stem.*`` / ``conv1`` / ``bn1``, ``layer1`` ... ``layer4``). Only torch is needed.
"""
from __future__ import annotations

import math
from collections import OrderedDict
from typing import Dict, List, Mapping

import torch

__all__ = ['stage_of', 'weight_change', 'load_backbone_state', 'BARELY_MOVED']

#: below this relative L2 change (in every stage) a pretraining is reported as barely moved
BARELY_MOVED = 0.01


def stage_of(key: str) -> str:
    """Stage name of a backbone key: 'stem' for the stem / first conv, else 'layerN' (a UNet
    encoder's stage i: 'encoderI')."""
    parts = key.split('.')
    if parts[0] == 'encoder' and len(parts) > 1 and parts[1].isdigit():
        return 'encoder' + parts[1]
    return parts[0] if parts[0].startswith('layer') else 'stem'


def load_backbone_state(path: str) -> Dict[str, torch.Tensor]:
    """The tensors of a backbone checkpoint, loaded safely (weights only)."""
    from ..checkpoint import safe_load
    from ..transfer.keys import unwrap_state_dict
    ckpt = safe_load(path, map_location='cpu')
    state = unwrap_state_dict(ckpt) if isinstance(ckpt, Mapping) else None
    if not state:
        raise ValueError(f'{path}: not a backbone checkpoint (no state_dict)')
    return dict(state)


def weight_change(start: Mapping[str, torch.Tensor],
                  end: Mapping[str, torch.Tensor]) -> 'OrderedDict[str, Dict[str, float]]':
    """Relative change ``||end - start|| / ||start||`` of the learnable tensors, per stage.

    Parameters only (running statistics and counters of BN are left out: they move without
    any gradient step). Each stage also gets ``bn_scale``: the mean absolute change of its BN
    weights (gamma), the figure that showed a near-idle pretraining most plainly.

    Args:
        start (Mapping[str, Tensor]): Backbone weights before pretraining.
        end (Mapping[str, Tensor]): Backbone weights after pretraining, same keys.

    Returns:
        OrderedDict[str, dict]: Per stage (stem, layer1, ...) and 'all':
        ``{'rel_l2': float, 'bn_scale': float, 'tensors': int}``.

    Raises:
        ValueError: the key sets or shapes differ (the files are not two states of one net).
    """
    missing, extra = sorted(set(start) - set(end)), sorted(set(end) - set(start))
    if missing or extra:
        raise ValueError(f'start and end backbones differ in keys: {len(missing)} only in '
                         f'start {missing[:5]}, {len(extra)} only in end {extra[:5]}')
    acc: 'OrderedDict[str, List[float]]' = OrderedDict()
    for key in sorted(start, key=lambda k: (stage_of(k) != 'stem', k)):
        if key.endswith(('running_mean', 'running_var', 'num_batches_tracked')):
            continue
        a, b = start[key].double(), end[key].double()
        if a.shape != b.shape:
            raise ValueError(f'{key}: shape {tuple(a.shape)} at the start, {tuple(b.shape)} '
                             'at the end')
        for stage in (stage_of(key), 'all'):
            s = acc.setdefault(stage, [0.0, 0.0, 0.0, 0.0, 0])
            s[0] += float(((b - a) ** 2).sum())
            s[1] += float((a ** 2).sum())
            s[4] += 1
            if _is_bn_weight(key, start):
                s[2] += float((b - a).abs().sum())
                s[3] += a.numel()
    out: 'OrderedDict[str, Dict[str, float]]' = OrderedDict()
    for stage in [k for k in acc if k != 'all'] + ['all']:
        diff, norm, bn_sum, bn_n, count = acc[stage]
        out[stage] = dict(rel_l2=math.sqrt(diff) / math.sqrt(norm) if norm > 0 else math.inf,
                          bn_scale=bn_sum / bn_n if bn_n else float('nan'), tensors=count)
    return out


def _is_bn_weight(key: str, state: Mapping[str, torch.Tensor]) -> bool:
    """A BN gamma: a 1-D ``weight`` whose module also has ``running_mean``."""
    if not key.endswith('.weight') or state[key].dim() != 1:
        return False
    return key[:-len('weight')] + 'running_mean' in state
