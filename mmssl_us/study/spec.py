"""The shape of a ``study`` dict, checked at every level before any work.

A key the study does not read (``pool.extras`` for ``pool.extra``, ``finetune.shrink.max_iter``
for ``max_iters``) would otherwise be ignored, or end in a ``TypeError`` after the data step;
a seed of ``1.7`` would run seed 1; ``seeds=[0, 0]`` would run one seed twice. :func:`check_study`
refuses each with one sentence naming the key, the value and a did-you-mean.

:data:`STUDY_KEYS` types each top-level key (:class:`Key`: its schema, its default, whether
it changes results); the key check, the fingerprint (:data:`RESULT_KEYS`) and the runner
(:func:`setting`) all read it. :data:`STUDY_SPEC` is the schema tree: for each key either a nested schema (a dict: the keys that
level may hold), :data:`NAMED` (a dict of user-named entries, each checked with the schema
given) or :data:`ANY` (a free-form value such as ``cfg_options``, whose keys are a config's and
are checked where the config is loaded). The ``shrink`` key sets mirror the arguments of
``mmssl_us.seg.config_utils.seg_cfg_options`` and ``mmssl_us.pretrain.config_utils
.pretrain_cfg_options`` (kept in step by ``tests/study/test_spec.py``; they are not imported
here so that checking a study loads no host).
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Dict, Mapping, Sequence

from ..validate import check_choice, check_float, check_int, did_you_mean

__all__ = ['STUDY_SPEC', 'STUDY_KEYS', 'RESULT_KEYS', 'Key', 'setting', 'check_study',
           'check_seeds', 'check_fractions', 'ANY', 'NAMED']

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

@dataclass(frozen=True)
class Key:
    """One top-level key of a ``study`` dict.

    Attributes:
        schema: What the value may hold (a nested schema dict, :class:`NAMED` or :data:`ANY`).
        default: The value the study runs with where the key is absent (copied on use).
        changes_results (bool): Whether a finished run's numbers depend on it: such keys make
            the study's fingerprint (:mod:`.fingerprint`), so a resume under another value is
            refused; the others (arms, seeds, fractions, the report) may change on a resume.
        doc (str): What the key sets.
    """
    schema: Any = ANY
    default: Any = None
    changes_results: bool = False
    doc: str = ''


#: every key a ``study`` dict may hold: schema, default and whether it changes results
STUDY_KEYS: Dict[str, Key] = dict(
    data_root=Key(ANY, None, True, 'the dataset folder (docs/CONTRACTS.md layout)'),
    # the options of python -m mmssl_us.synthetic.cli that take a value
    synthetic=Key(dict.fromkeys(('patients', 'frames', 'unlabelled', 'split', 'size', 'seed',
                                 'geometry', 'workers', 'mode', 'out'), ANY), None, True,
                  'generate synthetic data when data_root is missing'),
    # dataset, src and the keyword arguments of the converters (mmssl_us.data.converters)
    convert=Key(dict.fromkeys(('dataset', 'src', 'seed', 'val', 'test', 'split_dir',
                               'csv_path'), ANY), None, True,
                'convert a public dataset into data_root when it is missing'),
    # the keyword arguments of mmssl_us.data.layout.prepare_folder (but src, dst, log)
    folder=Key(dict.fromkeys(('val', 'seed', 'mask_suffix', 'patient_pattern'), ANY), None,
               True, "a user's own images/ + masks/ folder, viewed in the work dir"),
    classes=Key(ANY, None, True, 'class names (a folder study)'),
    pool=Key(dict(splits=ANY, extra=ANY, folder=ANY, echonet=ANY), None, True,
             'what the pretraining pool holds'),
    pretrain=Key(NAMED({'*': dict(config=ANY, shrink=PRETRAIN_SHRINK, cfg_options=ANY,
                                  checkpoint=ANY, start_checkpoint=ANY, probe=PROBE,
                                  # the transfer adapter: 'resnet' (default), 'unet'
                                  adapter=ANY)}), {}, True, 'the pretrainings, by arm name'),
    probe=Key(PROBE, None, False, 'the online dense probe of every pretraining'),
    extra_inits=Key(NAMED({'*': ANY}), {}, True, 'converted backbones, by arm name'),
    finetune=Key(dict(config=ANY, shrink=FINETUNE_SHRINK, cfg_options=ANY,
                      # set by the runner for a folder study; a user may set them too
                      classes=ANY, img_suffix=ANY), None, True,
                 'the fine-tuning config and its overrides, the same for every arm'),
    inits=Key(ANY, None, False, 'the arms'),
    fractions=Key(ANY, None, False, 'the label fractions'),
    seeds=Key(ANY, None, False, 'the seeds'),
    baseline=Key(ANY, 'random', False, 'the arm every other is compared with'),
    same_start=Key(ANY, True, True, "add each pretraining's same-start arm"),
    tsne=Key(dict(split=ANY, max_images=ANY, color=ANY, points_per_image=ANY), None, False,
             't-SNE of the initial backbones'),
    leakage=Key(ANY, 'stop', False, "the leakage guard: 'stop', 'warn' or 'off'"),
    # scheduling only: a run computes the same whatever runs beside it (up to the rounding of
    # another thread count), so a resume may change it
    jobs=Key(ANY, 1, False, 'fine-tuning runs at once, each in its own process on '
             '1/jobs of the threads (1: one at a time, in the study process)'),
    # None: mmssl_us.data.exclusion.NEAR_DUPLICATE_BITS (24), the pool exclusion's threshold
    leakage_near_bits=Key(ANY, None, False, "the leakage guard's near-duplicate threshold "
                          '(difference-hash bits of 256); exact copies are always found'),
)
#: the schema tree :func:`check_study` walks (each key's ``schema``)
STUDY_SPEC: Dict[str, Any] = {name: key.schema for name, key in STUDY_KEYS.items()}
#: the keys a finished run's numbers depend on (the fingerprint's keys)
RESULT_KEYS = tuple(name for name, key in STUDY_KEYS.items() if key.changes_results)


def setting(study: Mapping, name: str) -> Any:
    """``study[name]``, or the key's default (a copy) where it is absent or None.

    Raises:
        KeyError: ``name`` is not a study key (a typo in the package, not the user's).
    """
    key = STUDY_KEYS[name]
    value = study.get(name)
    return copy.deepcopy(key.default) if value is None else value


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
        if study.get('jobs') is not None:
            check_int('study.jobs', study['jobs'], 1)
        if study.get('leakage_near_bits') is not None:
            check_int('study.leakage_near_bits', study['leakage_near_bits'], 0, 255)
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

