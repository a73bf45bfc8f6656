"""Pretraining checkpoint -> backbone checkpoint that the target host loads key for key.

What is kept: the online (query) encoder, ``backbone.*`` for every supported method (DenseCL,
MoCo v2, SimCLR, BYOL train it by gradient). What is dropped: the momentum / target encoder
(``encoder_k.*``, ``target_net.*``), necks, heads, queues and the pre-processor.

The output is ``{'state_dict': {key: tensor}, 'meta': {...plain str/int/bool...}}``: it loads
with ``torch.load(weights_only=True)`` and through
``init_cfg=dict(type='VerifiedPretrained', checkpoint=...)`` on the host's backbone, with no
``prefix`` (the keys are bare backbone keys). ``meta['target']`` names the host and
``meta['backbone']`` the backbone config that fits (``dict(type='ResNet', depth=50,
deep_stem=True)`` for a deep stem in mmdet). With ``verify`` the weights are checked
(:mod:`.verify`) before the file is written, so a verified file is never wrong.
"""
import os.path as osp
from collections import OrderedDict
from typing import Dict, Mapping, Optional, Sequence, Tuple, Union

import torch

from ..fileio import atomic_save, clean_stale_temporaries
from .adapters import BackboneAdapter, find_adapter, get_adapter
from .keys import extract_backbone, unwrap_state_dict
from .verify import verify_backbone

__all__ = ['resolve_source', 'convert_checkpoint']


def resolve_source(src: str) -> str:
    """A checkpoint path, or the ``last_checkpoint`` recorded in a work dir."""
    if osp.isdir(src):
        record = osp.join(src, 'last_checkpoint')
        if not osp.isfile(record):
            raise FileNotFoundError(f'{src} is a folder without a last_checkpoint file; '
                                    'pass the checkpoint file itself')
        with open(record, encoding='utf-8') as f:
            path = f.read().strip()
        if not path:
            raise FileNotFoundError(f'{record} is empty (a run killed while writing it?): pass '
                                    'the checkpoint file itself, e.g. the latest epoch_*.pth')
        return path if osp.isabs(path) or osp.isfile(path) else osp.join(src, osp.basename(path))
    if not osp.isfile(src):
        raise FileNotFoundError(f'checkpoint not found: {src}')
    return src


def _take_encoder(state: Mapping[str, torch.Tensor],
                  prefixes: Sequence[str]) -> Tuple[str, 'OrderedDict']:
    """(prefix, encoder state) for the first of ``prefixes`` present in ``state``."""
    for prefix in prefixes:
        if any(k.startswith(prefix) for k in state):
            return prefix, extract_backbone(state, prefix)
    heads = sorted({k.split('.', 1)[0] for k in state})
    wanted = ' or '.join(f'"{p}*"' for p in prefixes)
    raise ValueError(f'no {wanted} keys in the checkpoint (top-level names: {heads})')


_OUR_CONVERTERS = ('mmssl_us.transfer', 'mmssl_us.pretrain.convert')


def check_destination(src: str, dst: str, overwrite: bool = False) -> None:
    """Refuse a destination that would lose data: the source itself, a folder, or an existing
    file that is not a backbone file this converter wrote (unless ``overwrite``)."""
    if osp.isdir(dst):
        raise ValueError(f'{dst} is a folder: give the output file name, e.g. '
                         f'{osp.join(dst, "backbone.pth")}')
    if not osp.exists(dst):
        return
    if osp.samefile(src, dst):
        raise ValueError(f'the output {dst} is the source checkpoint itself: the converter never '
                         'overwrites its source (the training checkpoint keeps the optimizer, '
                         'key encoder and queues a resumed run needs)')
    if overwrite:
        return
    from ..checkpoint import safe_load
    try:
        meta = safe_load(dst, map_location='cpu').get('meta') or {}
    except Exception:  # unreadable or not ours: refuse below
        meta = {}
    if not (isinstance(meta, Mapping) and meta.get('converter') in _OUR_CONVERTERS):
        raise ValueError(f'{dst} exists and is not a backbone file written by this converter: '
                         'refusing to overwrite it (choose another output, or pass '
                         'overwrite=True / --force)')


def convert_checkpoint(src: str, dst: str, adapter: Union[str, BackboneAdapter] = 'resnet',
                       verify: bool = False, overwrite: bool = False,
                       target: Optional[str] = None,
                       backbone: Optional[str] = None) -> Tuple[Dict[str, torch.Tensor], dict]:
    """Convert pretraining checkpoint ``src`` and save the backbone checkpoint to ``dst``.

    ``src`` is loaded with ``weights_only=True`` (:func:`mmssl_us.checkpoint.safe_load`); it may
    be an mmengine checkpoint (``{'state_dict': ..., 'meta': ...}``) or a bare state_dict.

    Args:
        src (str): Pretraining checkpoint.
        dst (str): Output file (written atomically; folders are created).
        adapter (str | BackboneAdapter): Backbone family and target host
            (:mod:`.adapters`). Defaults to 'resnet' (mmpretrain ResNet -> mmseg ResNet).
        verify (bool): Check keys, tensors and outputs before writing
            (:func:`.verify.verify_backbone`); the result is saved as ``meta['verified']``.
            Defaults to False.
        overwrite (bool): Replace an existing ``dst`` that is not a backbone file written by
            this converter. The source itself is never overwritten. Defaults to False.
        target (str, optional): Host to convert for (``'mmseg'``, ``'mmdet'``,
            ``'mmpretrain'``): the adapter of ``adapter``'s family for that host. None keeps
            ``adapter`` as named. Defaults to None.
        backbone (str, optional): The host backbone the file is meant for, e.g.
            ``'ResNet'`` or ``'ResNet(deep_stem=True)'``: refused (nothing written) unless the
            weights fit it exactly; the error names the setting that fits. None: whatever fits
            (recorded in ``meta['backbone']``). Defaults to None.

    Returns:
        tuple[dict, dict]: the converted state_dict and the meta saved with it.

    Raises:
        ValueError: ``src`` holds no encoder the adapter knows, the weights do not fit
            ``backbone``, verification fails (then ``dst`` is not written), or ``dst`` is
            refused (:func:`check_destination`).
    """
    from ..checkpoint import safe_load
    check_destination(src, dst, overwrite)
    adapter = get_adapter(adapter) if isinstance(adapter, str) else adapter
    if target is not None and target != adapter.host:
        adapter = find_adapter(adapter.family, target)
    ckpt = safe_load(src, map_location='cpu')
    if not isinstance(ckpt, Mapping):
        raise ValueError(f'{src}: expected a checkpoint dict, got {type(ckpt).__name__}')
    state = unwrap_state_dict(ckpt)
    try:
        prefix, source = _take_encoder(state, adapter.prefixes)
        renamed = adapter.rename(source)
        facts = dict(adapter.describe(renamed))
        if adapter.fit is not None:
            facts.update(adapter.fit(facts, backbone))
    except ValueError as exc:
        raise ValueError(f'{src}: {exc}') from None
    src_meta = ckpt.get('meta') or {}
    src_meta = src_meta if isinstance(src_meta, Mapping) else {}
    dropped = sorted({k.split('.', 1)[0] for k in state if not k.startswith(prefix)})
    meta = dict(source=osp.abspath(src), converter='mmssl_us.transfer', adapter=adapter.name,
                target=adapter.host)
    meta.update(facts)
    if adapter.allowed_missing:  # the keys the file leaves to the fine-tuning (UNet decoder)
        meta['allowed_missing'] = ','.join(adapter.allowed_missing)
    meta.update(num_keys=len(renamed), dropped=', '.join(dropped),
                epoch=int(src_meta.get('epoch', -1)), iter=int(src_meta.get('iter', -1)))
    method = _source_method(src)
    if method:
        meta['method'] = method  # which pretraining made it (the work dir's run.json)
    tensors = OrderedDict((k, v.detach().cpu().contiguous()) for k, v in renamed.items())
    if verify:
        try:
            meta['verified'] = verify_backbone(tensors, meta, adapter, source)
        except ValueError as exc:
            raise ValueError(f'{src}: verification failed, {dst} not written: {exc}') from None
    for path in clean_stale_temporaries(osp.dirname(osp.abspath(dst))):
        print(f'removed a stale temporary file of a killed converter: {path}')
    atomic_save({'state_dict': tensors, 'meta': meta}, dst)
    return tensors, meta


def _source_method(src: str) -> str:
    """The model type recorded in the source's work dir (``run.json``), or ''."""
    from ..workdir import read_run_record
    try:
        record = read_run_record(osp.dirname(osp.abspath(src)))
    except ValueError:
        return ''
    model = (record or {}).get('model')
    return model if isinstance(model, str) and model != 'unknown' else ''
