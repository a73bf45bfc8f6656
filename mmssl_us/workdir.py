"""Whose a work dir is: default work dirs that cannot collide, a record of the model that
trains there, and the refusals that keep one model's checkpoints from another's run.

``tools/train.py`` writes ``<work_dir>/run.json`` (:func:`claim_work_dir`): the config, the
model's type and a digest of the model settings. A training whose model differs from the one
whose checkpoints a work dir holds is refused, naming both configs (two configs pinned to one
work dir would otherwise overwrite each other's ``epoch_1.pth``, ``start_weights.pth`` and
saved config). ``tools/test.py`` never writes into a training run's
folder (:func:`check_not_a_run`). Standard library (mmengine lazily, to read an older run's
saved config).
"""
from __future__ import annotations

import glob
import hashlib
import json
import os.path as osp
from typing import Any, Dict, List, Optional

__all__ = ['default_work_dir', 'RUN_RECORD', 'model_record', 'read_run_record',
           'checkpoints_in', 'claim_work_dir', 'check_not_a_run']

#: the record of the model that trains in a work dir
RUN_RECORD = 'run.json'


def default_work_dir(config: str, kind: Optional[str] = None) -> str:
    """``work_dirs/[<kind>/]<config's folder>/<config's stem>``: two configs of the same file
    name in different folders (``densecl/r50_knee.py`` and a ``genesis/r50_knee.py``) get their
    own.

    Args:
        config (str): The config file.
        kind (str, optional): A first level (``'test'`` for evaluations). Defaults to None.
    """
    parent = osp.basename(osp.dirname(osp.abspath(config)))
    parts = ['work_dirs'] + ([kind] if kind else []) + [parent,
                                                       osp.splitext(osp.basename(config))[0]]
    return osp.join(*parts)


def _type_name(model: Any) -> str:
    kind = model.get('type') if isinstance(model, dict) else None
    kind = getattr(kind, '__name__', kind)
    return str(kind).rsplit('.', 1)[-1] if kind is not None else 'unknown'


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value if isinstance(value, (str, int, float, bool, type(None))) else str(value)


def model_record(cfg) -> Dict[str, str]:
    """What ``run.json`` holds for ``cfg``: config path, model type, model digest."""
    model = _plain(cfg.get('model') or {})
    text = json.dumps(model, sort_keys=True)
    return dict(config=osp.abspath(cfg.filename) if getattr(cfg, 'filename', None) else '',
                model=_type_name(model),
                model_digest='sha256:' + hashlib.sha256(text.encode()).hexdigest()[:16])


def read_run_record(work_dir: str) -> Optional[Dict[str, str]]:
    """The ``run.json`` of ``work_dir``, or None."""
    path = osp.join(work_dir, RUN_RECORD)
    try:
        with open(path, encoding='utf-8') as f:
            record = json.load(f)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise ValueError(f'{path} is unreadable ({exc}): it records which model trains in '
                         f'{work_dir}; remove it only if that folder holds no checkpoints you '
                         'keep') from None
    return record if isinstance(record, dict) else None


def checkpoints_in(work_dir: str) -> List[str]:
    """The checkpoint files (``*.pth``) at the top of ``work_dir``, sorted."""
    return sorted(glob.glob(osp.join(glob.escape(work_dir), '*.pth')))


def _saved_model_type(work_dir: str) -> Optional[tuple]:
    """(config, model type) of a config mmengine saved in ``work_dir`` (runs made before
    ``run.json`` existed), or None."""
    from mmengine.config import Config
    for path in sorted(glob.glob(osp.join(glob.escape(work_dir), '*.py'))):
        try:
            cfg = Config.fromfile(path, import_custom_modules=False)
        except Exception:  # noqa: BLE001 - not a config we can read: no evidence either way
            continue
        if cfg.get('model') is not None:
            return path, _type_name(_plain(cfg.model))
    return None


def claim_work_dir(cfg, resume: bool = False) -> None:
    """Refuse to train ``cfg`` in a work dir holding another model's checkpoints; then record
    that this model trains there (``run.json``).

    Args:
        cfg: The mmengine Config to train (``work_dir`` set).
        resume (bool): Whether the run resumes (a resume needs the same model too).
    """
    from .fileio import atomic_write
    work_dir = cfg.work_dir
    mine = model_record(cfg)
    ckpts = checkpoints_in(work_dir)
    if ckpts:
        theirs = read_run_record(work_dir)
        if theirs is not None:
            # a resume of another shape has its own message (train.check_resume_fits)
            other = theirs.get('model') != mine['model'] or (
                not resume and theirs.get('model_digest') != mine['model_digest'])
            their_cfg, their_model = theirs.get('config', '?'), theirs.get('model', '?')
        else:
            saved = _saved_model_type(work_dir)
            other = saved is not None and saved[1] != mine['model']
            their_cfg, their_model = saved if saved else ('?', '?')
        if other:
            raise FileExistsError(
                f'{work_dir} holds checkpoints ({osp.basename(ckpts[-1])}, ...) of another '
                f'model: {their_cfg} ({their_model}); {mine["config"]} ({mine["model"]}) would '
                'overwrite them. Pass another --work-dir (or leave it out: default work dirs '
                'are per config folder and name)')
    atomic_write(osp.join(work_dir, RUN_RECORD), json.dumps(mine, indent=1) + '\n')


def check_not_a_run(work_dir: str) -> None:
    """Refuse to evaluate into a training run's folder (its saved config, logs, checkpoints)."""
    if osp.isfile(osp.join(work_dir, RUN_RECORD)) or checkpoints_in(work_dir) or osp.isfile(
            osp.join(work_dir, 'last_checkpoint')):
        raise FileExistsError(
            f'{work_dir} is a training run\'s folder (it holds its checkpoints and saved '
            'config): tools/test.py writes its logs to a work dir of its own. Leave --work-dir '
            'out (default work_dirs/test/<config folder>/<config name>) or pass another one')
