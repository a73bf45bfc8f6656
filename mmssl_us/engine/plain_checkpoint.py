"""Checkpoints (pretraining and fine-tuning) that plain ``torch.load(path, weights_only=True)`` reads.

mmengine 0.10.7 saves the message hub's ``HistoryBuffer`` objects (and numpy arrays and scalars
inside them and elsewhere) into every checkpoint. Under torch >= 2.6, whose ``torch.load``
defaults to ``weights_only=True``, such a file loads only where something allow-listed those
types first (``mmssl_us.checkpoint.install``, docs/ENVIRONMENT.md, trap 3): in mmpretrain,
mmdet or a plain script it stops with an ``UnpicklingError`` on ``HistoryBuffer``.

:class:`PlainCheckpointHook` writes them as plain data instead: before a checkpoint is saved,
every ``HistoryBuffer``, numpy array, numpy scalar and numpy dtype in it becomes a tagged dict
of python scalars and lists (:func:`to_plain`); after a checkpoint is loaded (``--resume``,
``load_from``) they are rebuilt exactly, same class, dtype, shape and values
(:func:`from_plain`). mmengine 0.10.7's ``Runner.resume`` calls ``after_load_checkpoint``
(inside ``load_checkpoint``) before ``message_hub.load_state_dict``, so the message hub gets
its ``HistoryBuffer`` objects back.

The hook is registered in mmengine's root ``HOOKS`` registry, so the runners of every host
(mmpretrain's and mmseg's registries are children of the root and look a name up there) build
it from ``dict(type='PlainCheckpointHook')``. It works beside mmengine's ``CheckpointHook``, not
instead of it: ``CheckpointHook`` decides when to save (``interval``, ``save_best``,
``max_keep_ckpts``) and every save, the best one included, goes through
``Runner.save_checkpoint``, which calls this hook's ``before_save_checkpoint``.
"""
from collections import OrderedDict
from typing import Any

import numpy as np
from mmengine.hooks import Hook
from mmengine.registry import HOOKS

__all__ = ['PlainCheckpointHook', 'to_plain', 'from_plain']

#: key of the tagged dicts that stand for non-plain objects
TAG = '__mmssl_us_plain__'


def _array_to_plain(arr: np.ndarray) -> dict:
    if arr.dtype.hasobject:
        data = [to_plain(x) for x in arr.ravel().tolist()]
    else:
        data = arr.ravel().tolist()  # python int / float / bool / str: exact for these dtypes
    return {TAG: 'ndarray', 'dtype': arr.dtype.str, 'shape': list(arr.shape), 'data': data}


def _array_from_plain(obj: dict) -> np.ndarray:
    dtype = np.dtype(obj['dtype'])
    if dtype.hasobject:
        flat = np.empty(len(obj['data']), dtype=object)
        for i, x in enumerate(obj['data']):
            flat[i] = from_plain(x)
    else:
        flat = np.array(obj['data'], dtype=dtype)
    return flat.reshape(obj['shape'])


def to_plain(obj: Any) -> Any:
    """``obj`` with every ``HistoryBuffer`` and numpy object replaced by a tagged plain dict.

    Containers (dict, OrderedDict, list, tuple) are copied with their type; tensors and python
    scalars are returned as they are. The result holds nothing that ``torch.load`` with
    ``weights_only=True`` refuses, unless ``obj`` held other objects of its own.
    """
    from mmengine.logging import HistoryBuffer
    if isinstance(obj, HistoryBuffer):
        # its __getstate__ adds the class-wide table of statistics functions to the state;
        # they are HistoryBuffer's own methods (or ones registered in the process), which a
        # plain file cannot hold and a restore does not need
        state = {k: v for k, v in vars(obj).items() if k != 'statistics_methods'}
        return {TAG: 'HistoryBuffer', 'state': to_plain(state)}
    if isinstance(obj, np.ndarray):
        return _array_to_plain(obj)
    if isinstance(obj, np.generic):
        return {TAG: 'numpy_scalar', 'dtype': obj.dtype.str, 'value': obj.item()}
    if isinstance(obj, np.dtype):
        return {TAG: 'numpy_dtype', 'dtype': obj.str}
    if isinstance(obj, OrderedDict):
        return OrderedDict((k, to_plain(v)) for k, v in obj.items())
    if type(obj) is dict:
        return {k: to_plain(v) for k, v in obj.items()}
    if type(obj) in (list, tuple):
        return type(obj)(to_plain(v) for v in obj)
    return obj


def from_plain(obj: Any) -> Any:
    """The inverse of :func:`to_plain`; objects without tags are returned as they are."""
    if isinstance(obj, dict) and TAG in obj:
        kind = obj[TAG]
        if kind == 'HistoryBuffer':
            from mmengine.logging import HistoryBuffer
            buf = HistoryBuffer.__new__(HistoryBuffer)  # as pickle does: no __init__
            buf.__setstate__(from_plain(obj['state']))
            return buf
        if kind == 'ndarray':
            return _array_from_plain(obj)
        if kind == 'numpy_scalar':
            return np.dtype(obj['dtype']).type(obj['value'])
        if kind == 'numpy_dtype':
            return np.dtype(obj['dtype'])
        raise ValueError(f'unknown {TAG} entry {kind!r} in a checkpoint (written by a newer '
                         'mmssl_us?)')
    if isinstance(obj, OrderedDict):
        return OrderedDict((k, from_plain(v)) for k, v in obj.items())
    if type(obj) is dict:
        return {k: from_plain(v) for k, v in obj.items()}
    if type(obj) in (list, tuple):
        return type(obj)(from_plain(v) for v in obj)
    return obj


@HOOKS.register_module()
class PlainCheckpointHook(Hook):
    """Save checkpoints as plain data (tensors, python scalars, str, lists, dicts); rebuild the
    ``HistoryBuffer`` / numpy objects when one is loaded, so ``--resume`` is exact.

    The lowest priority: it converts what every other hook added before the save.
    Checkpoints written without it (``HistoryBuffer`` pickled as such) still resume.
    """

    priority = 'LOWEST'

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        """Replace, in place, every entry of ``checkpoint`` by its plain form."""
        for key in list(checkpoint):
            checkpoint[key] = to_plain(checkpoint[key])

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        """Rebuild, in place, the objects :meth:`before_save_checkpoint` made plain."""
        for key in list(checkpoint):
            checkpoint[key] = from_plain(checkpoint[key])
