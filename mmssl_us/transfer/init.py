"""``VerifiedPretrained``: load a backbone from a checkpoint, fail on any key that does not fit.

Host-free (mmengine, torch and :mod:`mmssl_us.transfer.keys` only), registered in mmengine's
root ``WEIGHT_INITIALIZERS``, so mmseg, mmdet and mmpretrain configs all find it::

    custom_imports = dict(imports=['mmssl_us.transfer.init'], allow_failed_imports=False)
    model = dict(backbone=dict(..., init_cfg=dict(type='VerifiedPretrained',
                                                  checkpoint='backbone.pth')))

(``mmssl_us.seg`` imports it too, so the segmentation configs need no extra import.)

Why not mmengine's ``Pretrained``: it loads with ``strict=False`` and only logs what did not
match. A checkpoint named for another host (mmpretrain's ``stem.0.conv.*`` against mmdet's
``stem.0.*``) or another stem (a deep stem against a 7x7 ``conv1``) loads *nothing* into those
layers, and with mmdet's ``frozen_stages=1`` the random stem is frozen for good.
``VerifiedPretrained`` compares key sets and shapes first and raises, naming the keys and the
setting that fits, unless every parameter and buffer of the module is matched (or explicitly
allowed to be missing).

Order: mmengine's ``BaseModule.init_weights`` runs initializers whose type is not
``'Pretrained'`` *before* the children's own ``init_weights`` and the module's own post-steps.
Those steps would overwrite the loaded weights in silence: mmpretrain's ``ResNet`` zeroes the
last norm of every block (``zero_init_residual``, on by default) unless its ``init_cfg`` is of
type ``'Pretrained'``, and a child with an ``init_weights`` of its own (mmcv's ``ConvModule``,
say) re-initialises itself. After loading, this initializer therefore switches the module's
``zero_init_residual`` off and marks every submodule as initialised; the tests compare every
tensor after ``init_weights`` of mmseg, mmdet and mmpretrain backbones and of whole detectors
and classifiers with the checkpoint.
"""
import os.path as osp
from collections import OrderedDict
from typing import Any, Dict, List, Mapping, Optional, Sequence

import torch
from mmengine.logging import print_log
from mmengine.model.weight_init import update_init_info
from mmengine.registry import WEIGHT_INITIALIZERS

from .keys import compare_keys, resnet_key_hint, unwrap_state_dict

__all__ = ['VerifiedPretrainedInit', 'CheckpointKeyError', 'extract_state_dict',
           'load_checkpoint_file', 'strict_pretrained_inits', 'CLASSIFIER_KEYS',
           'pretrained_init_cfg']


class CheckpointKeyError(RuntimeError):
    """Keys or shapes of a checkpoint do not match the module it should initialise."""

    user_error = True  # a refusal: the tools print its sentence (mmssl_us.cli)


def _converted_for(checkpoint: Mapping[str, Any]) -> str:
    """``' (converted for mmseg: dict(type='ResNetV1c', depth=50))'`` from our meta, or ''."""
    meta = checkpoint.get('meta') if isinstance(checkpoint, Mapping) else None
    if not isinstance(meta, Mapping) or not str(meta.get('converter', '')).startswith(
            'mmssl_us.'):
        return ''
    what = meta.get('backbone') or ''
    return f' (converted for {meta.get("target", "?")}{": " + what if what else ""})'


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

    Raises:
        CheckpointKeyError: not a dict, or no tensor (with ``prefix``); a converted backbone
            file asked for a prefix is named as such.
    """
    if not isinstance(checkpoint, dict):
        raise CheckpointKeyError(f'{source}: expected a dict, got {type(checkpoint).__name__}')
    out: 'OrderedDict[str, torch.Tensor]' = OrderedDict()
    state = unwrap_state_dict(checkpoint)
    for key, value in state.items():
        if prefix:
            if not key.startswith(prefix):
                continue
            key = key[len(prefix):]
        out[key] = value
    if not out:
        hint = ''
        if prefix and state:
            heads = sorted({k.split('.', 1)[0] for k in state})
            hint = f' (its keys start with {heads[:8]})'
            if _converted_for(checkpoint):
                hint = (f': it is a backbone file{_converted_for(checkpoint)} whose keys are '
                        f'bare backbone keys; drop prefix={prefix!r}')
        raise CheckpointKeyError(f'{source}: no tensors' +
                                 (f' with the prefix {prefix!r}' if prefix else '') + hint)
    return out


def load_checkpoint_file(checkpoint: str, map_location: str = 'cpu') -> Any:
    """Read a checkpoint safely: a local file with ``weights_only=True``
    (:func:`mmssl_us.checkpoint.safe_load`, errors name the file), a URL through mmengine."""
    if '://' in checkpoint:
        from mmengine.runner.checkpoint import _load_checkpoint

        from ..checkpoint import install
        install()  # mmengine's loaders, safe
        return _load_checkpoint(checkpoint, map_location=map_location)
    if not osp.isfile(checkpoint):
        raise FileNotFoundError(
            f'pretrained checkpoint {checkpoint} not found (relative paths are read from '
            'the working directory). For the DenseCL configs, pretrain with configs/densecl '
            'and convert with `python tools/model_converters/pretrain2seg.py <work dir> '
            '--target mmseg|mmdet|mmpretrain` (or `python -m mmssl_us.transfer <work dir>`).')
    from ..checkpoint import safe_load
    return safe_load(checkpoint, map_location=map_location)


def _keep_loaded_weights(module: torch.nn.Module) -> str:
    """Stop the module's later init steps from overwriting what was loaded (see the module
    docstring); returns what was switched off, for the log."""
    done = []
    for sub in module.modules():
        if sub is module or not hasattr(sub, 'init_weights'):
            continue
        if hasattr(sub, '_is_init'):  # mmengine BaseModule: its is_init property
            sub._is_init = True
        else:  # mmcv ConvModule and other plain modules with init_weights
            sub.is_init = True
        done.append(sub)
    notes = [f'{len(done)} submodules marked initialised'] if done else []
    if getattr(module, 'zero_init_residual', False):
        module.zero_init_residual = False
        notes.append('zero_init_residual switched off')
    return ', '.join(notes)


@WEIGHT_INITIALIZERS.register_module(name='VerifiedPretrained')
class VerifiedPretrainedInit:
    """Load a pretrained checkpoint into a module; raise unless every key matches.

    Args:
        checkpoint (str): Checkpoint path or URL. Local files are read with
            ``weights_only=True`` (:func:`mmssl_us.checkpoint.safe_load`).
        prefix (str, optional): Take only keys with this prefix, stripped (``'backbone.'`` for
            a whole-model pretraining checkpoint in mmpretrain). Defaults to None.
        allowed_missing (Sequence[str]): ``fnmatch`` patterns of module keys the checkpoint
            may lack. Defaults to ().
        map_location (str): Where to load the tensors. Defaults to 'cpu'.
        allowed_unexpected (Sequence[str]): ``fnmatch`` patterns of checkpoint keys the
            module may lack (``'fc.*'``: the classifier of an ImageNet checkpoint).
            Defaults to ().
        method (str, optional): The pretraining model type the backbone must come from
            (``'UltrasoundDenseCL'``, ``'ModelsGenesis'``): a converted backbone whose
            ``meta['method']`` names another is refused. Defaults to None (not checked).
    """

    def __init__(self, checkpoint: str, prefix: Optional[str] = None,
                 allowed_missing: Sequence[str] = (), map_location: str = 'cpu',
                 allowed_unexpected: Sequence[str] = (), method: Optional[str] = None) -> None:
        if not isinstance(checkpoint, str) or not checkpoint:
            raise ValueError(f'checkpoint must be a path or URL, got {checkpoint!r}')
        for name, value in (('allowed_missing', allowed_missing),
                            ('allowed_unexpected', allowed_unexpected)):
            if isinstance(value, str):
                raise ValueError(f'{name} must be a list of patterns, got {value!r}')
        self.checkpoint = checkpoint
        self.prefix = prefix
        self.allowed_missing = tuple(allowed_missing)
        self.allowed_unexpected = tuple(allowed_unexpected)
        self.map_location = map_location
        self.method = method

    def __call__(self, module: torch.nn.Module) -> None:
        raw = load_checkpoint_file(self.checkpoint, self.map_location)
        meta = raw.get('meta') if isinstance(raw, Mapping) else None
        made_by = meta.get('method') if isinstance(meta, Mapping) else None
        if self.method is not None and made_by is not None and made_by != self.method:
            raise CheckpointKeyError(
                f'checkpoint {self.checkpoint} was converted from a {made_by} pretraining '
                f'({meta.get("source", "?")}), but this config expects {self.method}: convert '
                f'the {self.method} work dir, or set init_cfg.method to {made_by!r}')
        state = extract_state_dict(raw, self.prefix, source=self.checkpoint)
        own = module.state_dict()
        report = compare_keys(own, state, self.allowed_missing, self.allowed_unexpected)
        if not report.ok:
            hint = resnet_key_hint(list(own), list(state))
            raise CheckpointKeyError(
                f'checkpoint {self.checkpoint}{_converted_for(raw)} does not match '
                f'{type(module).__name__}: ' + report.message() + '. ' +
                (hint[0].upper() + hint[1:] + '.' if hint else
                 'Convert the checkpoint to this module\'s key names (python -m '
                 'mmssl_us.transfer SRC DST --target mmseg|mmdet|mmpretrain) or list intended '
                 'gaps in allowed_missing.'))
        module.load_state_dict(state, strict=False)
        kept = _keep_loaded_weights(module)
        print_log(f'VerifiedPretrained: loaded {len(state)} tensors from {self.checkpoint} into '
                  f'{type(module).__name__}; missing 0 (allowed missing '
                  f'{len(report.allowed_missing)}), unexpected 0' +
                  (f'; {kept}' if kept else ''), logger='current')
        if hasattr(module, '_params_init_info'):
            update_init_info(module, init_info=f'VerifiedPretrained: {self.checkpoint}')


#: checkpoint keys a backbone may leave unused: the classifier of an ImageNet checkpoint
CLASSIFIER_KEYS = ('fc.*', 'head.*', 'classifier.*')
#: models whose ``pretrained=PATH`` is the backbone's checkpoint (mmseg's segmentors)
_BACKBONE_PRETRAINED = ('EncoderDecoder', )


def _verified(spec: Dict[str, Any]) -> Dict[str, Any]:
    out = dict(type='VerifiedPretrained', checkpoint=spec['checkpoint'],
               allowed_unexpected=list(CLASSIFIER_KEYS))
    for key in ('prefix', 'map_location'):
        if spec.get(key) is not None:
            out[key] = spec[key]
    return out


def strict_pretrained_inits(model_cfg) -> List[str]:
    """Make every ``init_cfg=dict(type='Pretrained', ...)`` (and a segmentor's or detector's
    ``pretrained=PATH``) in ``model_cfg`` a ``VerifiedPretrained`` init, in place.

    mmengine's ``Pretrained`` loads with ``strict=False`` and only logs what did not fit, so a
    checkpoint named for another library trains from random weights in silence.
    :class:`VerifiedPretrainedInit` stops with the counts and the first missing and unexpected
    keys; a classifier's keys (:data:`CLASSIFIER_KEYS`) may be left over.

    Returns:
        list[str]: Where a Pretrained init was replaced (dotted config paths).
    """
    changed: List[str] = []

    def visit(node: Any, where: str) -> None:
        if isinstance(node, dict):
            if (isinstance(node.get('pretrained'), str) and isinstance(node.get('backbone'), dict)
                    and str(node.get('type', '')).endswith(_BACKBONE_PRETRAINED)):
                node['backbone']['init_cfg'] = _verified(dict(checkpoint=node['pretrained']))
                node['pretrained'] = None
                changed.append(f'{where}.pretrained')
            init = node.get('init_cfg')
            if isinstance(init, dict) and init.get('type') == 'Pretrained':
                node['init_cfg'] = _verified(init)
                changed.append(f'{where}.init_cfg')
            elif isinstance(init, list):
                for i, item in enumerate(init):
                    if isinstance(item, dict) and item.get('type') == 'Pretrained':
                        init[i] = _verified(item)
                        changed.append(f'{where}.init_cfg.{i}')
            for key, value in node.items():
                if key != 'init_cfg':
                    visit(value, f'{where}.{key}')
        elif isinstance(node, (list, tuple)):
            for i, item in enumerate(node):
                visit(item, f'{where}.{i}')

    visit(model_cfg, 'model')
    return changed


def pretrained_init_cfg(checkpoint: str) -> dict:
    """The ``init_cfg`` that loads a backbone file of ``mmssl_us.transfer``: ``VerifiedPretrained``
    with the gaps the converter recorded (``meta['allowed_missing']``: the UNet's
    ``decoder.*``), none for a whole backbone. The decoder then keeps the initialisation its
    modules got when they were built (mmcv ``ConvModule``: Kaiming)."""
    raw = load_checkpoint_file(checkpoint)
    meta = raw.get('meta') if isinstance(raw, Mapping) else None
    gaps = str(meta.get('allowed_missing') or '') if isinstance(meta, Mapping) else ''
    cfg = dict(type='VerifiedPretrained', checkpoint=checkpoint)
    if gaps:
        cfg['allowed_missing'] = [p for p in gaps.split(',') if p]
    return cfg
