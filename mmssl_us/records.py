"""Settings records: what made a folder's contents, kept beside them and checked on reuse.

A study reuses work it finds: a converted dataset (``conversion.json``), a folder study's view
(``layout.json``), a pretraining (``pretrain/<name>/settings.json``), the study's finished runs
(``study_fingerprint.json``; each ``results.csv`` row carries a digest of the same settings).
Each record is JSON written atomically; reuse under other settings is refused, naming the
dotted keys that differ with their old and new values. This module is the one comparison and
the one message all of them use. Standard library only (and :mod:`.fileio`).
"""
from __future__ import annotations

import json
import os.path as osp
from typing import Any, Dict, List, Optional

from .fileio import atomic_write

__all__ = ['read_record', 'write_record', 'normalise', 'differing_keys', 'describe',
           'compare_record', 'check_record']

#: longest repr of one value in a message (a split's patient list can run to thousands)
_REPR = 80
#: most differing keys named in a message
_LIMIT = 8


def normalise(settings: Any) -> Any:
    """``settings`` as its JSON record reads back (tuples as lists, sorted keys, str() of
    other objects), so that a fresh value and a recorded one compare equal."""
    return json.loads(json.dumps(settings, sort_keys=True, default=str))


def read_record(path: str) -> Optional[Any]:
    """The JSON record at ``path``; None where there is none.

    Raises:
        ValueError: the file is there but is not JSON (a record cut short or edited by hand):
            it is never taken for "no record" and overwritten.
    """
    if not osp.isfile(path):
        return None
    try:
        with open(path, encoding='utf-8') as f:
            return json.load(f)
    except ValueError as exc:
        raise ValueError(f'{path} is not a readable settings record ({exc}): restore it, or '
                         'delete it together with what it describes') from None


def write_record(path: str, settings: Any) -> None:
    """Write ``settings`` to ``path`` atomically (sorted keys, one per line)."""
    atomic_write(path, json.dumps(normalise(settings), indent=1, sort_keys=True))


def _flat(d: Any, prefix: str = '') -> Dict[str, Any]:
    if isinstance(d, dict):
        out: Dict[str, Any] = {}
        for k, v in d.items():
            out.update(_flat(v, f'{prefix}{k}.'))
        return out or ({prefix[:-1]: {}} if prefix else {})
    return {prefix[:-1]: d}


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _REPR else text[:_REPR - 5] + ' ...' + text[-1]


def differing_keys(old: Any, new: Any) -> List[str]:
    """``'key: old -> new'`` for every dotted key whose value differs (None = absent). A
    ``config_digest`` that the old record lacks (written before digests were kept) is not a
    difference."""
    a, b = _flat(old), _flat(new)
    return [f'{k}: {_short(a.get(k))} -> {_short(b.get(k))}'
            for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)
            and not (k.endswith('config_digest') and k not in a)]


def describe(diff: List[str]) -> str:
    """The differences for a message: the first few, and how many more."""
    more = f'; and {len(diff) - _LIMIT} more' if len(diff) > _LIMIT else ''
    return '; '.join(diff[:_LIMIT]) + more


def compare_record(path: str, settings: Any) -> Optional[List[str]]:
    """:func:`differing_keys` between the record at ``path`` and ``settings``; None when
    there is no record yet."""
    old = read_record(path)
    return None if old is None else differing_keys(old, normalise(settings))


def check_record(path: str, settings: Any, what: str, remedy: str) -> bool:
    """Write ``settings`` to ``path`` the first time (False); later, True if they match.

    Raises:
        ValueError: ``what`` was made with other settings, naming the differing keys, the
            record and ``remedy``.
    """
    diff = compare_record(path, settings)
    if diff is None:
        write_record(path, settings)
        return False
    if diff:
        raise ValueError(f'{what} was made with other settings ({len(diff)} differ: '
                         f'{describe(diff)}; recorded in {path}): {remedy}')
    return True
