"""Safe checkpoint loading and atomic checkpoint writing for mmengine 0.10.7.

Two problems of mmengine 0.10.7 under torch >= 2.6 are handled here, at the mechanism level so
that every path that loads or saves a checkpoint benefits (``--resume``, ``load_from``,
``init_cfg=dict(type='Pretrained')``, ``CheckpointHook``):

* **Loading.** ``torch.load`` now defaults to ``weights_only=True``, and mmengine's own
  checkpoints carry a few non-tensor types (the message hub's ``HistoryBuffer``, numpy arrays
  and scalars). Instead of switching safe loading off, :func:`install` allow-lists exactly those
  types, and replaces mmengine's local-file loader by one that always loads with
  ``weights_only=True`` and turns a refusal into :class:`UnsafeCheckpointError` naming the file.
  A checkpoint whose pickle would call anything else (``os.system`` via ``__reduce__``, say) is
  refused before any of its code runs.
* **Writing.** mmengine writes checkpoints with a plain ``open(path, 'wb')``: a run killed during
  the write leaves a torn file behind. :func:`install` makes the local file backend write
  through :func:`mmssl_us.fileio.atomic_write` (a temporary file in the same folder, fsynced and
  ``os.replace``-d into place, with the mode a plain ``open`` would give), so a reader sees the
  old file or the new one, never half of one.

The allow-list, and why each entry is harmless:

* ``mmengine.logging.history_buffer.HistoryBuffer``: a plain container; its state is restored
  with ``__dict__.update`` (no code runs).
* numpy's ``_reconstruct``, ``ndarray``, ``dtype`` (and the ``numpy.dtypes`` classes) and
  ``scalar``: rebuild arrays and scalars from bytes. Object arrays are filled with objects that
  the same restricted unpickler already produced.
* ``_codecs.encode``: numpy pickles raw bytes as ``encode(str, 'latin1')``; it returns bytes.
* ``builtins.getattr``: mmengine pickles the statistics methods of ``HistoryBuffer`` as
  ``getattr(HistoryBuffer, 'min')``. The real ``getattr`` would let a hostile file walk from an
  allowed class to any object in the process (``__init__.__globals__`` ...), so the name is
  bound to :func:`_history_buffer_getattr`, which only hands out ``HistoryBuffer``'s own public
  methods.
"""
from __future__ import annotations

import os.path as osp
import pickle
from typing import Any, Callable, List, Tuple, Union

from .fileio import atomic_write

__all__ = ['install', 'safe_load', 'UnsafeCheckpointError', 'CorruptCheckpointError',
           'safe_globals_list', 'checkpoint_fit', 'check_checkpoint_fits']

_INSTALLED = False


class UnsafeCheckpointError(RuntimeError):
    """A checkpoint was refused because its pickle needs a type outside the allow-list."""

    user_error = True  # a refusal: the tools print its sentence (mmssl_us.cli)


def _history_buffer_getattr(obj: Any, name: str) -> Any:
    """Stand-in for ``builtins.getattr`` inside checkpoints: HistoryBuffer methods only."""
    from mmengine.logging.history_buffer import HistoryBuffer
    if obj is not HistoryBuffer or not isinstance(name, str) or name.startswith('_'):
        raise pickle.UnpicklingError(
            f'getattr({obj!r}, {name!r}) is not allowed in a checkpoint: only public '
            'methods of mmengine HistoryBuffer may be referenced')
    attr = HistoryBuffer.__dict__.get(name)
    if not callable(attr):
        raise pickle.UnpicklingError(
            f'HistoryBuffer.{name} is not a method; refusing it in a checkpoint')
    return getattr(HistoryBuffer, name)


def safe_globals_list() -> List[Union[Callable, Tuple[Callable, str]]]:
    """The globals that mmengine/mmpretrain/mmseg checkpoints need beyond torch's defaults."""
    import _codecs

    import numpy as np
    from mmengine.logging.history_buffer import HistoryBuffer

    try:  # numpy >= 2
        from numpy._core import multiarray
        core = 'numpy._core.multiarray'
    except ImportError:  # numpy 1.x
        from numpy.core import multiarray
        core = 'numpy.core.multiarray'
    entries: List[Union[Callable, Tuple[Callable, str]]] = [
        HistoryBuffer,
        np.ndarray,
        np.dtype,
        (_codecs.encode, '_codecs.encode'),
        (_history_buffer_getattr, 'builtins.getattr'),
    ]
    # Arrays pickled under numpy 1 name numpy.core, under numpy 2 numpy._core: accept both.
    for mod in {core, 'numpy.core.multiarray', 'numpy._core.multiarray'}:
        entries.append((multiarray._reconstruct, f'{mod}._reconstruct'))
        entries.append((multiarray.scalar, f'{mod}.scalar'))
    dtypes = getattr(np, 'dtypes', None)
    if dtypes is not None:
        for name in dir(dtypes):
            cls = getattr(dtypes, name)
            if isinstance(cls, type) and issubclass(cls, np.dtype):
                entries.append(cls)
    return entries


class CorruptCheckpointError(ValueError):
    """A checkpoint file that torch cannot read at all (truncated, or not a torch file)."""


def safe_load(filename: str, map_location: Any = None) -> Any:
    """``torch.load`` with ``weights_only=True`` and the allow-list; errors name the file.

    Raises:
        FileNotFoundError: ``filename`` does not exist.
        UnsafeCheckpointError: the pickle needs a global outside the allow-list (nothing from it
            has been executed).
        CorruptCheckpointError: the file is truncated or not a torch checkpoint.
    """
    import torch
    install()
    filename = osp.expanduser(str(filename))
    if not osp.isfile(filename):
        raise FileNotFoundError(f'checkpoint not found: {filename}')
    try:
        return torch.load(filename, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:
        reason = _refusal_reason(str(exc))
        raise UnsafeCheckpointError(
            f'refused to load checkpoint {filename}: it needs something that safe loading does '
            f'not allow: {reason}. mmssl_us loads checkpoints with weights_only=True and allows '
            'only tensors, containers, numpy arrays and mmengine HistoryBuffer. If you wrote '
            'this file yourself and trust it, re-save it as a plain state_dict.') from None
    except (RuntimeError, EOFError, OSError) as exc:
        # torch names neither the file nor the cause in plain words ("failed finding central
        # directory" for a file cut short)
        raise CorruptCheckpointError(
            f'cannot read checkpoint {filename} ({osp.getsize(filename)} bytes): it is '
            f'truncated or not a torch checkpoint (a copy or a write cut short?): '
            f'{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}') from None


def _refusal_reason(message: str) -> str:
    """The one line of torch's weights_only error that says what was refused."""
    lines = [ln.strip() for ln in message.splitlines() if ln.strip()]
    boiler = ('Weights only load failed', 'Please file an issue', 'Check the documentation')
    useful = [ln for ln in lines if not ln.startswith(boiler)]
    return (useful[0] if useful else (lines[0] if lines else 'unknown reason')).rstrip('.')


def _load_from_local(filename: str, map_location: Any = None) -> Any:
    """Replacement for mmengine's ``load_from_local`` scheme (prefix '')."""
    return safe_load(filename, map_location=map_location)


def _make_atomic_backend():
    from mmengine.fileio.backends import LocalBackend

    class AtomicLocalBackend(LocalBackend):
        """mmengine's LocalBackend whose writes are atomic (temp file + fsync + os.replace)."""

        def put(self, obj: bytes, filepath) -> None:
            atomic_write(str(filepath), obj)

        def put_text(self, obj: str, filepath, encoding: str = 'utf-8') -> None:
            atomic_write(str(filepath), obj, encoding=encoding)

    return AtomicLocalBackend


def install() -> None:
    """Allow-list the checkpoint types, use the safe local loader and atomic local writes.

    Idempotent; called on import of ``mmssl_us.pretrain`` and ``mmssl_us.seg`` and by the tools.
    """
    global _INSTALLED
    if _INSTALLED:
        return
    import torch
    from mmengine.fileio.backends import register_backend
    from mmengine.runner.checkpoint import CheckpointLoader

    if not hasattr(torch.serialization, 'add_safe_globals'):
        raise RuntimeError(
            f'torch {torch.__version__} has no torch.serialization.add_safe_globals; '
            'mmssl_us needs torch >= 2.6 for safe checkpoint loading')
    torch.serialization.add_safe_globals(safe_globals_list())
    CheckpointLoader.register_scheme(prefixes='', loader=_load_from_local, force=True)
    register_backend('local', _make_atomic_backend(), force=True, prefixes='')
    _INSTALLED = True



def checkpoint_fit(model, path: str, buffer_shapes: bool = True):
    """How the checkpoint at ``path`` (read with :func:`safe_load`) fits ``model``: a
    :class:`mmssl_us.transfer.keys.KeyReport` of missing, unexpected and mis-shaped keys (a
    model wrapper is unwrapped).

    Args:
        model (torch.nn.Module): The built model.
        path (str): The checkpoint.
        buffer_shapes (bool): Compare the shapes of buffers too. False compares buffers by
            name only (a resume: ``NegativeQueueHook`` sizes an automatic queue when the
            checkpoint loads). Defaults to True.
    """
    from mmengine.model import is_model_wrapper

    from .transfer.keys import compare_keys, unwrap_state_dict
    model = model.module if is_model_wrapper(model) else model
    found = unwrap_state_dict(safe_load(path, map_location='cpu'))
    expected = model.state_dict()
    if not buffer_shapes:
        buffers = {name for name, _ in model.named_buffers()}
        expected = {k: found[k] if k in buffers and k in found else v
                    for k, v in expected.items()}
    return compare_keys(expected, found)


def check_checkpoint_fits(model, path: str) -> None:
    """Stop when the checkpoint that ``load_from`` / testing would load does not fit the model
    (mmengine loads with ``strict=False`` and only warns: a backbone-only file or another
    model's checkpoint would then be evaluated or trained from random weights in silence).

    Raises:
        ValueError: the checkpoint misses keys of the model, has others, or other shapes.
    """
    report = checkpoint_fit(model, path)
    if not report.ok:
        raise ValueError(f'{path} does not fit the model of this config: {report.message()}. '
                         'Pass --partial-load to load what fits anyway (the rest stays as '
                         'initialised).')
