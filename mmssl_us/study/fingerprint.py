"""The settings a study's results depend on, recorded once and checked on every resume.

Finished runs are skipped when a study resumes. That is only right while the settings that
produced them still hold: a study re-run after its fine-tuning length, its pretraining or its
data changed would otherwise mix old and new runs in one report, and its ``study_config.py``
would no longer describe ``results.csv``. The first run of a study writes
``<work_dir>/study_fingerprint.json``; a later run with other settings stops and names the keys
that differ. Adding seeds, fractions or arms (``seeds``, ``fractions``, ``inits``) and changing
the report or the probe are allowed: they add runs without changing the finished ones. The
fingerprint is written once the pretrainings are done (a first attempt that fails on a typo
leaves nothing to compare against).
"""
from __future__ import annotations

import json
import os.path as osp
from typing import Any, Dict, List

from mmssl_us.fileio import atomic_write

__all__ = ['study_fingerprint', 'check_fingerprint', 'record_fingerprint', 'FINGERPRINT_FILE']

FINGERPRINT_FILE = 'study_fingerprint.json'
#: study keys that change what a finished run computed
KEYS = ('data_root', 'synthetic', 'convert', 'folder', 'classes', 'pool', 'pretrain',
        'extra_inits', 'finetune', 'same_start')


def study_fingerprint(study: Dict[str, Any]) -> Dict[str, Any]:
    """The part of the study dict that finished runs depend on (JSON-normalised)."""
    return json.loads(json.dumps({k: study.get(k) for k in KEYS}, sort_keys=True,
                                 default=str))


def _flat(d: Any, prefix: str = '') -> Dict[str, Any]:
    if isinstance(d, dict):
        out: Dict[str, Any] = {}
        for k, v in d.items():
            out.update(_flat(v, f'{prefix}{k}.'))
        return out or {prefix[:-1]: {}}
    return {prefix[:-1]: d}


def record_fingerprint(work_dir: str, study: Dict[str, Any]) -> None:
    """Write the fingerprint unless the work dir has one already."""
    path = osp.join(work_dir, FINGERPRINT_FILE)
    if not osp.isfile(path):
        atomic_write(path, json.dumps(study_fingerprint(study), indent=1, sort_keys=True))


def check_fingerprint(work_dir: str, study: Dict[str, Any]) -> None:
    """Stop when the work dir's recorded fingerprint differs from ``study``'s (none: fine).

    Raises:
        ValueError: naming up to 8 differing dotted keys with their old and new values.
    """
    path = osp.join(work_dir, FINGERPRINT_FILE)
    new = study_fingerprint(study)
    if not osp.isfile(path):
        return
    with open(path, encoding='utf-8') as f:
        old = json.load(f)
    if old == new:
        return
    a, b = _flat(old), _flat(new)
    diff: List[str] = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
    if not diff:  # only keys added since, unset (None) in both
        return
    shown = '; '.join(f'{k}: {a.get(k)!r} -> {b.get(k)!r}' for k in diff[:8])
    raise ValueError(f'{work_dir} holds runs of a study with other settings ({len(diff)} '
                     f'differ: {shown}). Resuming would mix them in one report: give this '
                     'study a new work dir (--work-dir), or restore the old settings')
