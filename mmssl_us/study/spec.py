"""The shape of a ``study`` dict, checked at every level before any work.

A key the study does not read (``pool.extras`` for ``pool.extra``, ``finetune.shrink.max_iter``
for ``max_iters``) would otherwise be ignored, or end in a ``TypeError`` after the data step;
a seed of ``1.7`` would run seed 1; ``seeds=[0, 0]`` would run one seed twice. :func:`check_study`
refuses each with one sentence naming the key, the value and a did-you-mean.

:data:`STUDY_SPEC` is the schema: for each key either a nested schema (a dict: the keys that
level may hold), :data:`NAMED` (a dict of user-named entries, each checked with the schema
given) or :data:`ANY` (a free-form value such as ``cfg_options``, whose keys are a config's and
are checked where the config is loaded). The ``shrink`` key sets mirror the arguments of
``mmssl_us.seg.config_utils.seg_cfg_options`` and ``mmssl_us.pretrain.config_utils
.pretrain_cfg_options`` (kept in step by ``tests/study/test_spec.py``; they are not imported
here so that checking a study loads no host).
"""
from __future__ import annotations

from typing import Any, Dict, Mapping, Sequence

from ..validate import check_choice, check_float, check_int, did_you_mean

__all__ = ['STUDY_SPEC', 'check_study', 'check_seeds', 'check_fractions', 'ANY', 'NAMED']

#: a value whose content is not checked here (config overrides, paths)
ANY = object()


class NAMED(dict):
    """A level whose keys the user names (pretrainings, extra backbones); each entry's value
    is checked with ``self['*']``."""


#: the arguments of mmssl_us.seg.config_utils.seg_cfg_options (but cfg)
FINETUNE_SHRINK = dict.fromkeys(
    ('crop_size', 'img_scale', 'max_iters', 'val_interval', 'batch_size', 'depth',
     'head_channels', 'label_fraction', 'fraction_seed', 'seed', 'num_workers', 'warmup_iters',
     'eval_batch_size'), ANY)
#: the arguments of mmssl_us.pretrain.config_utils.pretrain_cfg_options (but cfg)
PRETRAIN_SHRINK = dict.fromkeys(
    ('depth', 'view_size', 'batch_size', 'max_epochs', 'warmup_iters', 'num_workers', 'seed'),
    ANY)
#: the arguments of DenseProbeHook (but data_root, which the study sets)
PROBE = dict.fromkeys(
    ('train_split', 'val_split', 'fraction', 'fraction_seed', 'num_classes', 'interval', 'size',
     'stages', 'max_images', 'steps', 'mean', 'std'), ANY)

STUDY_SPEC: Dict[str, Any] = dict(
    data_root=ANY,
    # the options of python -m mmssl_us.synthetic.cli that take a value
    synthetic=dict.fromkeys(('patients', 'frames', 'unlabelled', 'split', 'size', 'seed',
                             'geometry', 'workers', 'mode', 'out'), ANY),
    # dataset, src and the keyword arguments of the converters (mmssl_us.data.converters)
    convert=dict.fromkeys(('dataset', 'src', 'seed', 'val', 'test', 'split_dir', 'csv_path'),
                          ANY),
    # the keyword arguments of mmssl_us.data.layout.prepare_folder (but src, dst, log)
    folder=dict.fromkeys(('val', 'seed', 'mask_suffix', 'patient_pattern'), ANY),
    classes=ANY,
    pool=dict(splits=ANY, extra=ANY, folder=ANY, echonet=ANY),
    pretrain=NAMED({'*': dict(config=ANY, shrink=PRETRAIN_SHRINK, cfg_options=ANY,
                              checkpoint=ANY, start_checkpoint=ANY, probe=PROBE,
                              # the transfer adapter: 'resnet' (default), 'unet'
                              adapter=ANY)}),
    probe=PROBE,
    extra_inits=NAMED({'*': ANY}),
    finetune=dict(config=ANY, shrink=FINETUNE_SHRINK, cfg_options=ANY,
                  # set by the runner for a folder study; a user may set them too
                  classes=ANY, img_suffix=ANY),
    inits=ANY, fractions=ANY, seeds=ANY, baseline=ANY, same_start=ANY,
    tsne=dict(split=ANY, max_images=ANY, color=ANY, points_per_image=ANY),
    leakage=ANY,
)


def _check_level(value: Any, spec: Any, where: str) -> None:
    if spec is ANY:
        return
    if isinstance(spec, NAMED):
        if not isinstance(value, Mapping):
            raise ValueError(f'{where} must be a dict of name=settings, got {value!r}')
        for name, item in value.items():
            if not isinstance(name, str) or not name:
                raise ValueError(f'{where}: names must be non-empty strings, got {name!r}')
            _check_level(item, spec['*'], f'{where}.{name}')
        return
    if value is None:  # an optional level switched off
        return
    if not isinstance(value, Mapping):
        raise ValueError(f'{where} must be a dict with keys among {sorted(spec)}, got '
                         f'{value!r}')
    for key, item in value.items():
        if key not in spec:
            raise ValueError(f'{where}: unknown key {key!r}' + did_you_mean(str(key), spec) +
                             f'; {where} may hold {", ".join(sorted(spec))}')
        _check_level(item, spec[key], f'{where}.{key}')


def _is_list(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, (str, bytes))


def check_seeds(seeds: Any, where: str = 'study.seeds') -> list:
    """A non-empty list of distinct ints >= 0 (``1.7`` or ``True`` is refused, not rounded)."""
    if not _is_list(seeds) or not seeds:
        raise ValueError(f'{where} must be a non-empty list of ints, got {seeds!r}')
    out = [check_int(f'{where}[{i}]', s, low=0) for i, s in enumerate(seeds)]
    _refuse_repeats(out, where)
    return out


def check_fractions(fractions: Any, where: str = 'study.fractions') -> list:
    """A non-empty list of distinct label fractions in (0, 1]."""
    if not _is_list(fractions) or not fractions:
        raise ValueError(f'{where} must be a non-empty list of numbers in (0, 1], got '
                         f'{fractions!r}')
    out = [check_float(f'{where}[{i}]', f, low=0, high=1, low_open=True)
           for i, f in enumerate(fractions)]
    _refuse_repeats(out, where)
    return out


def _refuse_repeats(values: list, where: str) -> None:
    seen = set()
    for v in values:
        if v in seen:
            raise ValueError(f'{where} lists {v!r} more than once ({values}): each run is one '
                             'fraction x init x seed, so list each value once')
        seen.add(v)


def _check_names(value: Any, where: str) -> list:
    if not _is_list(value) or not value or not all(isinstance(v, str) and v for v in value):
        raise ValueError(f'{where} must be a non-empty list of names, got {value!r}')
    _refuse_repeats(list(value), where)
    return list(value)


def check_study(study: Any, source: str = 'the study config') -> None:
    """Refuse an unknown key at any level of ``study`` (with a did-you-mean) and malformed
    inits, fractions, seeds and switches, before any work.

    Args:
        study (dict): The ``study`` dict (``--cfg-options`` merged).
        source (str): Where it came from, for the messages. Defaults to 'the study config'.
    """
    if not isinstance(study, Mapping):
        raise ValueError(f'{source}: `study` must be a dict, got {type(study).__name__}')
    try:
        _check_level(study, STUDY_SPEC, 'study')
        for key in ('inits', 'fractions', 'seeds'):
            if key not in study:
                raise ValueError(f'study.{key} is missing: a study needs inits, fractions and '
                                 'seeds')
        _check_names(study['inits'], 'study.inits')
        check_fractions(study['fractions'])
        check_seeds(study['seeds'])
        if study.get('classes') is not None:
            _check_names(study['classes'], 'study.classes')
        for key in ('same_start', ):
            if key in study:
                check_choice(f'study.{key}', study[key], (True, False))
        if 'leakage' in study:
            check_choice('study.leakage', study['leakage'], ('stop', 'warn', 'off'))
        pool = study.get('pool') or {}
        for key in ('splits', 'extra'):
            if key in pool and not (_is_list(pool[key])
                                    and all(isinstance(v, str) for v in pool[key])):
                raise ValueError(f'study.pool.{key} must be a list of folder names, got '
                                 f'{pool[key]!r}')
        for key in ('data_root', 'baseline'):
            if study.get(key) is not None and not isinstance(study[key], str):
                raise ValueError(f'study.{key} must be a string, got {study[key]!r}')
    except ValueError as exc:
        raise type(exc)(f'{source}: {exc}') from None

