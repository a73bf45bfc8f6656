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

import hashlib
import json
import os.path as osp
from typing import Any, Dict, List

from .. import records
from ..records import differing_keys
from .spec import RESULT_KEYS

__all__ = ['study_fingerprint', 'check_fingerprint', 'record_fingerprint', 'FINGERPRINT_FILE',
           'settings_digest', 'check_run_digests', 'differing_keys', 'check_record']

FINGERPRINT_FILE = 'study_fingerprint.json'
#: study keys that change what a finished run computed (``changes_results`` in the spec)
KEYS = RESULT_KEYS


def config_digest(path: str) -> str:
    """sha256 of a config as it resolves (its ``_base_`` files included), or of the file's
    bytes where it does not parse; '' for a missing file (its absence is reported elsewhere)."""
    if not osp.isfile(path):
        return ''
    try:
        from mmengine.config import Config
        text = Config.fromfile(path, import_custom_modules=False).pretty_text
    except Exception:  # an unparsable config: its bytes still tell a change
        with open(path, 'rb') as f:
            return 'sha256:' + hashlib.sha256(f.read()).hexdigest()[:16]
    return 'sha256:' + hashlib.sha256(text.encode('utf-8')).hexdigest()[:16]


def study_fingerprint(study: Dict[str, Any]) -> Dict[str, Any]:
    """The part of the study dict that finished runs depend on (JSON-normalised), with a digest
    of each referenced config (``<spec>.config_digest``): editing a pretraining or fine-tuning
    config in place changes what a run computes as much as changing the study does."""
    out = records.normalise({k: study.get(k) for k in KEYS})
    specs = [out.get('finetune')] + list((out.get('pretrain') or {}).values())
    for spec in specs:
        if isinstance(spec, dict) and isinstance(spec.get('config'), str):
            spec['config_digest'] = config_digest(spec['config'])
    return out


def settings_digest(study: Dict[str, Any]) -> str:
    """A short digest of :func:`study_fingerprint`, stored with every finished run."""
    text = json.dumps(study_fingerprint(study), sort_keys=True)
    return 'sha256:' + hashlib.sha256(text.encode('utf-8')).hexdigest()[:16]


def check_run_digests(rows: List[Dict[str, Any]], digest: str, source: str) -> None:
    """Stop when a finished run of ``results.csv`` was made with other settings.

    Rows written before runs carried a digest (no ``settings`` value) are accepted; the study's
    fingerprint file covers them.

    Raises:
        ValueError: naming the runs and both digests.
    """
    other = [r for r in rows if r.get('settings') and r['settings'] != digest]
    if other:
        names = ', '.join(f'{r["init"]}/frac{float(r["fraction"]):g}_seed{r["seed"]}'
                          for r in other[:5])
        raise ValueError(f'{len(other)} finished run(s) in {source} were made with other '
                         f'settings ({other[0]["settings"]}, now {digest}), e.g. {names}: '
                         'give this study a new work dir (--work-dir), or restore the old '
                         'settings')


def check_record(path: str, settings: Dict[str, Any], what: str) -> None:
    """Write ``settings`` to ``path`` the first time; later, stop if they differ
    (:func:`mmssl_us.records.check_record`). Used for a study's pretraining: its checkpoint is
    reused only under the settings that made it."""
    records.check_record(path, settings, what, 'give the study a new work dir (--work-dir), '
                         'or restore the old settings')


def record_fingerprint(work_dir: str, study: Dict[str, Any]) -> None:
    """Write the fingerprint unless the work dir has one already."""
    path = osp.join(work_dir, FINGERPRINT_FILE)
    if not osp.isfile(path):
        records.write_record(path, study_fingerprint(study))


def check_fingerprint(work_dir: str, study: Dict[str, Any]) -> None:
    """Stop when the work dir's recorded fingerprint differs from ``study``'s (none: fine).

    Raises:
        ValueError: naming up to 8 differing dotted keys with their old and new values.
    """
    path = osp.join(work_dir, FINGERPRINT_FILE)
    if not osp.isfile(path):  # nothing recorded yet: no configs to parse
        return
    diff = records.compare_record(path, study_fingerprint(study))
    if diff:  # keys added since and unset in both are no difference
        raise ValueError(f'{work_dir} holds runs of a study with other settings ({len(diff)} '
                         f'differ: {records.describe(diff)}). Resuming would mix them in one '
                         'report: give this study a new work dir (--work-dir), or restore the '
                         'old settings')
