"""Initialise a backbone from a checkpoint and fail on any key that does not match.

mmengine's ``Pretrained`` initializer loads with ``strict=False`` and only logs what did not
match: a checkpoint whose keys were named for another library (mmpretrain's ``stem.0.conv.*``
against mmseg's ``stem.0.*``, say) loads *nothing* for those layers and training quietly starts
from random weights. ``VerifiedPretrained`` compares the key sets and shapes first and raises,
naming the keys, unless every parameter and buffer of the module is matched (or explicitly
allowed to be missing). The comparison is the package's one,
:func:`mmssl_us.transfer.compare_keys` (host-free).

Note on ordering: mmengine's ``BaseModule.init_weights`` runs initializers whose type is not
``'Pretrained'`` before the children's own ``init_weights``. For mmseg's ``ResNetV1c`` this is
harmless (with an ``init_cfg`` given, its blocks get no init_cfg of their own);
``tests/seg/engine/test_verified_init.py`` checks that the weights of a built segmentor equal the
checkpoint after ``init_weights``.
"""
import os.path as osp
from collections import OrderedDict
from typing import Optional, Sequence

import torch
from mmengine.logging import print_log
from mmengine.model.weight_init import update_init_info
from mmengine.registry import WEIGHT_INITIALIZERS

from mmssl_us.transfer.keys import compare_keys, unwrap_state_dict

__all__ = ['VerifiedPretrainedInit', 'CheckpointKeyError', 'extract_state_dict']


class CheckpointKeyError(RuntimeError):
    """Keys or shapes of a checkpoint do not match the module it should initialise."""


def extract_state_dict(checkpoint: dict, prefix: Optional[str] = None,
                       source: str = '') -> 'OrderedDict[str, torch.Tensor]':
    """The tensors of a checkpoint: unwrap ``state_dict``, drop ``module.``, apply ``prefix``.

    Args:
        checkpoint (dict): A loaded checkpoint or plain state dict.
        prefix (str, optional): Keep only keys starting with it, and strip it (for example
            ``'backbone.'`` to take the backbone of a whole-model checkpoint). Defaults to None.
        source (str): File name for error messages. Defaults to ''.

    Returns:
        OrderedDict[str, torch.Tensor]: The state dict.
    """
    if not isinstance(checkpoint, dict):
        raise CheckpointKeyError(f'{source}: expected a dict, got {type(checkpoint).__name__}')
    out: 'OrderedDict[str, torch.Tensor]' = OrderedDict()
    for key, value in unwrap_state_dict(checkpoint).items():
        if prefix:
            if not key.startswith(prefix):
                continue
            key = key[len(prefix):]
        out[key] = value
    if not out:
        raise CheckpointKeyError(f'{source}: no tensors' +
                                 (f' with the prefix {prefix!r}' if prefix else ''))
    return out


@WEIGHT_INITIALIZERS.register_module(name='VerifiedPretrained')
class VerifiedPretrainedInit:
    """Load a pretrained checkpoint into a module; raise unless every key matches.

    Args:
        checkpoint (str): Checkpoint path or URL, read with mmengine's checkpoint loader (safe
            ``torch.load`` once :func:`mmssl_us.checkpoint.install` ran).
        prefix (str, optional): Take only keys with this prefix, stripped. Defaults to None.
        allowed_missing (Sequence[str]): ``fnmatch`` patterns of module keys the checkpoint
            may lack. Defaults to ().
        map_location (str): Where to load the tensors. Defaults to 'cpu'.
    """

    def __init__(self, checkpoint: str, prefix: Optional[str] = None,
                 allowed_missing: Sequence[str] = (), map_location: str = 'cpu') -> None:
        if not isinstance(checkpoint, str) or not checkpoint:
            raise ValueError(f'checkpoint must be a path or URL, got {checkpoint!r}')
        if isinstance(allowed_missing, str):
            raise ValueError(f'allowed_missing must be a list of patterns, got '
                             f'{allowed_missing!r}')
        self.checkpoint = checkpoint
        self.prefix = prefix
        self.allowed_missing = tuple(allowed_missing)
        self.map_location = map_location

    def __call__(self, module: torch.nn.Module) -> None:
        from mmengine.runner.checkpoint import _load_checkpoint
        if '://' not in self.checkpoint and not osp.isfile(self.checkpoint):
            raise FileNotFoundError(
                f'pretrained checkpoint {self.checkpoint} not found (relative paths are read from '
                'the working directory). For the DenseCL configs, pretrain with configs/densecl '
                'and convert with `python tools/model_converters/pretrain2seg.py <work dir>` '
                '(or `python -m mmssl_us.transfer <work dir>`).')
        raw = _load_checkpoint(self.checkpoint, map_location=self.map_location)
        state = extract_state_dict(raw, self.prefix, source=self.checkpoint)
        report = compare_keys(module.state_dict(), state, self.allowed_missing)
        if not report.ok:
            raise CheckpointKeyError(
                f'checkpoint {self.checkpoint} does not match {type(module).__name__}: '
                + report.message() + '. Convert the checkpoint to this module\'s key names '
                '(python -m mmssl_us.transfer) or list intended gaps in allowed_missing.')
        module.load_state_dict(state, strict=False)
        print_log(f'VerifiedPretrained: loaded {len(state)} tensors from {self.checkpoint} into '
                  f'{type(module).__name__}; missing 0 (allowed missing '
                  f'{len(report.allowed_missing)}), unexpected 0', logger='current')
        if hasattr(module, '_params_init_info'):
            update_init_info(module, init_info=f'VerifiedPretrained: {self.checkpoint}')
