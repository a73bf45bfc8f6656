"""Override the size of a pretraining run with ``--cfg-options`` keys, found by type.

The pieces of a pretraining config that a smaller run changes sit at list positions that
differ between configs: the view size in the random-resized crops inside ``MultiView``, the
loss warm-up in ``DenseCLHook`` among the custom hooks, the schedule in the cosine scheduler.
:func:`pretrain_cfg_options` finds them by type in a loaded config and returns the dotted keys
to set, for ``Config.merge_from_dict`` or (via ``format_cfg_options``) ``--cfg-options``. It is
the pretraining counterpart of :func:`mmssl_us.seg.config_utils.seg_cfg_options`;
:func:`pretrain_options` turns a study's pretraining spec into its overrides.
"""
from typing import Any, Dict, Iterator, List, Optional, Tuple

from ..resnet import DEPTHS, STAGE_CHANNELS
from ..validate import check_choice, check_int

__all__ = ['pretrain_cfg_options', 'pretrain_options']

#: necks whose input (and, where tied to it, hidden) width follows the backbone
_NECKS = ('DenseCLNeck', 'MoCoV2Neck', 'NonLinearNeck')
#: decoders fed by several backbone stages: ``in_channels`` lists the widths of ``out_indices``
_DECODERS = ('GenesisDecoder', )
#: transforms whose ``scale`` is the size of a view
_CROPS = ('RandomResizedCrop', 'SectorRandomResizedCrop', 'RandomResizedCropAndInterpolation')


def _type_name(cfg: Any) -> Optional[str]:
    """'X' for a dict of ``type='X'`` or ``type='scope.X'``; None for anything else."""
    if not isinstance(cfg, dict):
        return None
    kind = cfg.get('type')
    kind = getattr(kind, '__name__', kind)
    return kind.rsplit('.', 1)[-1] if isinstance(kind, str) else None


def _walk(node: Any, key: str) -> Iterator[Tuple[str, dict]]:
    """(dotted key, transform) of every transform in a pipeline, nested ones included
    (``MultiView`` holds a list of pipelines, ``RandomApply`` a list of transforms)."""
    if isinstance(node, (list, tuple)):
        for i, item in enumerate(node):
            yield from _walk(item, f'{key}.{i}')
    elif isinstance(node, dict):
        yield key, node
        if isinstance(node.get('transforms'), (list, tuple)):
            yield from _walk(node['transforms'], f'{key}.transforms')


def _schedule_options(cfg, max_epochs: int) -> Dict[str, Any]:
    """Schedulers that run to the end of training now end at ``max_epochs`` (a cosine's
    ``T_max`` with them); earlier ones (warm-ups) are kept and must end before it."""
    old = cfg.train_cfg.get('max_epochs')
    if old is None:
        raise ValueError('train_cfg has no max_epochs (an iteration-based loop?): set the '
                         'schedule with cfg_options instead')
    out: Dict[str, Any] = {'train_cfg.max_epochs': max_epochs}
    scheds = cfg.get('param_scheduler') or []
    for i, sched in enumerate([scheds] if isinstance(scheds, dict) else scheds):
        if not sched.get('by_epoch', True) or 'end' not in sched:
            continue
        key = 'param_scheduler' if isinstance(scheds, dict) else f'param_scheduler.{i}'
        if sched['end'] >= old:
            out[f'{key}.end'] = max_epochs
            if 'T_max' in sched:
                out[f'{key}.T_max'] = max_epochs - sched.get('begin', 0)
                if out[f'{key}.T_max'] < 1:
                    raise ValueError(f'max_epochs={max_epochs} leaves no epoch to '
                                     f'{_type_name(sched)} ({key}), which begins at epoch '
                                     f'{sched.get("begin", 0)}')
        elif sched['end'] >= max_epochs:
            raise ValueError(f'{_type_name(sched)} ({key}) ends at epoch {sched["end"]}, not '
                             f'before max_epochs={max_epochs}: shorten it (and the schedulers '
                             'after it) with cfg_options, or ask for more epochs')
    return out


def _neck_options(cfg, depth: int) -> Dict[str, Any]:
    """Backbone depth and the neck widths that follow it."""
    model = cfg.model
    if 'depth' not in model.get('backbone', {}):
        raise ValueError(f'backbone {_type_name(model.get("backbone"))} has no depth to set')
    neck = model.get('neck')
    if _type_name(neck) in _DECODERS:
        out_indices = model.backbone.get('out_indices', (3, ))
        widths = [STAGE_CHANNELS[depth][i] for i in out_indices]
        return {'model.backbone.depth': depth, 'model.neck.in_channels': widths}
    if _type_name(neck) not in _NECKS:
        raise ValueError(f'neck {_type_name(neck)} is not one of '
                         f'{", ".join(_NECKS + _DECODERS)}: set its widths for the new depth '
                         'with cfg_options')
    width = STAGE_CHANNELS[depth][-1]  # the last stage feeds the neck
    out: Dict[str, Any] = {'model.backbone.depth': depth, 'model.neck.in_channels': width}
    # mmpretrain's DenseCL / MoCo v2 / SimCLR necks have a hidden layer as wide as their input;
    # BYOL's is 4096 whatever the backbone, and stays.
    if neck.get('hid_channels') == neck.get('in_channels'):
        out['model.neck.hid_channels'] = width
    return out


def pretrain_cfg_options(cfg, depth: Optional[int] = None, view_size: Optional[int] = None,
                         batch_size: Optional[int] = None, max_epochs: Optional[int] = None,
                         warmup_iters: Optional[int] = None, num_workers: Optional[int] = None,
                         seed: Optional[int] = None) -> Dict[str, Any]:
    """Dotted config keys that shrink (or grow) a pretraining run; None leaves a setting.

    Args:
        cfg (mmengine.Config): A loaded pretraining config.
        depth (int): ResNet depth (18, 34, 50, 101, 152), with the neck's input width (and its
            hidden width where the config ties it to the input), or a decoder's input widths
            (one per backbone ``out_indices``, e.g. Models Genesis). Defaults to None.
        view_size (int): Output size of every random-resized crop of the training pipeline,
            inside ``MultiView`` and ``RandomApply`` too. Defaults to None.
        batch_size (int): Training batch size per process. Defaults to None.
        max_epochs (int): Epochs; schedulers that ran to the old end now end here (a cosine's
            ``T_max`` with them). Defaults to None.
        warmup_iters (int): Iterations of DenseCL's loss warm-up (``DenseCLHook.start_iters``);
            an error for a config without that hook (leave it out for them). Defaults to None.
        num_workers (int): Workers of the training loader (persistent when > 0).
            Defaults to None.
        seed (int): Training seed (``randomness.seed``). Defaults to None.

    Returns:
        dict[str, Any]: Dotted key -> value.

    Raises:
        ValueError: a value is invalid, or the config lacks what it should set (no crop in
            the pipeline, no ``DenseCLHook``, a neck of unknown widths, ...).
    """
    out: Dict[str, Any] = {}
    if depth is not None:
        out.update(_neck_options(cfg, check_choice('depth', depth, list(DEPTHS))))
    if view_size is not None:
        view_size = check_int('view_size', view_size, low=1)
        where = 'train_dataloader.dataset.pipeline'
        pipeline = cfg.train_dataloader.dataset.get('pipeline', [])
        keys: List[str] = [k for k, t in _walk(pipeline, where) if _type_name(t) in _CROPS]
        if not keys:
            raise ValueError(f'{where} has no random-resized crop ({", ".join(_CROPS)}) whose '
                             'scale view_size could set')
        out.update({f'{k}.scale': view_size for k in keys})
    if batch_size is not None:
        out['train_dataloader.batch_size'] = check_int('batch_size', batch_size, low=1)
    if max_epochs is not None:
        out.update(_schedule_options(cfg, check_int('max_epochs', max_epochs, low=1)))
    if warmup_iters is not None:
        warmup_iters = check_int('warmup_iters', warmup_iters, low=0)
        hooks = [i for i, h in enumerate(cfg.get('custom_hooks') or [])
                 if _type_name(h) == 'DenseCLHook']
        if not hooks:
            raise ValueError('warmup_iters sets DenseCLHook.start_iters, but custom_hooks has '
                             'no DenseCLHook (the loss warm-up of DenseCL configs): leave '
                             'warmup_iters out for this config')
        out.update({f'custom_hooks.{i}.start_iters': warmup_iters for i in hooks})
    if num_workers is not None:
        num_workers = check_int('num_workers', num_workers, low=0)
        out['train_dataloader.num_workers'] = num_workers
        out['train_dataloader.persistent_workers'] = num_workers > 0
    if seed is not None:
        out['randomness.seed'] = check_int('seed', seed)
    return out


def pretrain_options(spec: Dict[str, Any], data_root: Optional[str] = None) -> Dict[str, Any]:
    """The overrides of a study's pretraining spec: ``shrink``, then ``data_root``, then
    ``cfg_options`` (which wins).

    Args:
        spec (dict): ``dict(config=..., shrink=dict(...), cfg_options=dict(...))``; ``shrink``
            holds the arguments of :func:`pretrain_cfg_options`.
        data_root (str, optional): The study's data root, set on the config and its dataset.
            Defaults to None (the config's own).

    Returns:
        dict[str, Any]: Dotted key -> value.
    """
    options: Dict[str, Any] = {}
    if spec.get('shrink'):
        from mmengine.config import Config

        # only the structure is read: the plugin (custom_imports) need not be imported
        cfg = Config.fromfile(spec['config'], import_custom_modules=False)
        options.update(pretrain_cfg_options(cfg, **spec['shrink']))
    if data_root is not None:
        options['data_root'] = data_root
        options['train_dataloader.dataset.data_root'] = data_root
    options.update(spec.get('cfg_options') or {})
    return options
