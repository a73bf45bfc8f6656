"""Config helpers shared by every host: where the configs are, ``--cfg-options`` strings and
their key check.

Host-free (standard library; the Config is passed in). ``seg.config_utils`` and
``pretrain.config_utils`` build the overrides of one host; this module formats and checks them.

The configs ship with the package: a wheel (``pip install .``) carries them in
``mmssl_us/.mim/configs`` (OpenMMLab's place for a package's configs, which ``mim`` reads); a
checkout or an editable install has them in ``configs/`` beside ``mmssl_us/``. A path such as
``configs/study/quickstart.py`` that does not exist from the working directory is looked up there
(:func:`resolve_config`), so the studies' own references work from any folder.
"""
from __future__ import annotations

import os.path as osp
from typing import Any, Dict, List, Optional

from .validate import did_you_mean

__all__ = ['RUNNER_KEYS', 'config_root', 'resolve_config', 'format_cfg_options',
           'check_cfg_options']

_PACKAGE = osp.dirname(osp.abspath(__file__))


def config_root() -> Optional[str]:
    """The package's configs folder: ``mmssl_us/.mim/configs`` of an installed wheel, else
    ``configs/`` beside the package (a checkout), else None."""
    for folder in (osp.join(_PACKAGE, '.mim', 'configs'),
                   osp.join(osp.dirname(_PACKAGE), 'configs')):
        if osp.isdir(folder):
            return folder
    return None


def resolve_config(path: str) -> str:
    """``path`` itself when it exists (or is absolute), else ``configs/<rest>`` found in
    :func:`config_root`; unchanged when neither exists (the caller names the missing file)."""
    if osp.isabs(path) or osp.exists(path):
        return path
    parts = osp.normpath(path).split(osp.sep)
    root = config_root()
    if root is not None and len(parts) > 1 and parts[0] == 'configs':
        candidate = osp.join(root, *parts[1:])
        if osp.isfile(candidate):
            return candidate
    return path

#: top-level keys mmengine's Runner.from_cfg reads even when a config leaves them out
RUNNER_KEYS = frozenset((
    'model', 'work_dir', 'train_dataloader', 'val_dataloader', 'test_dataloader', 'train_cfg',
    'val_cfg', 'test_cfg', 'auto_scale_lr', 'optim_wrapper', 'param_scheduler',
    'val_evaluator', 'test_evaluator', 'default_hooks', 'custom_hooks', 'data_preprocessor',
    'load_from', 'resume', 'launcher', 'env_cfg', 'log_processor', 'log_level', 'visualizer',
    'default_scope', 'randomness', 'experiment_name', 'custom_imports'))


def _format_value(value: Any) -> str:
    if isinstance(value, tuple):
        return '(' + ','.join(_format_value(v) for v in value) + (',)' if len(value) == 1 else ')')
    if isinstance(value, list):
        return '[' + ','.join(_format_value(v) for v in value) + ']'
    return str(value)


def format_cfg_options(options: Dict[str, Any]) -> List[str]:
    """``key=value`` strings that mmengine's ``DictAction`` (``--cfg-options``) parses back to
    the same values, tuples and lists included."""
    return [f'{key}={_format_value(value)}' for key, value in options.items()]


def check_cfg_options(cfg, options: Dict[str, Any], source: str = '--cfg-options') -> None:
    """Refuse an override whose top-level key neither the config nor mmengine's runner knows
    (a typo such as ``modle.backbone.depth`` would otherwise be ignored in silence)."""
    known = set(cfg.keys()) | RUNNER_KEYS
    for key in options:
        top = key.split('.', 1)[0]
        if top not in known:
            raise ValueError(f'{source}: {key!r}: the config has no top-level key {top!r}' +
                             did_you_mean(top, known))
