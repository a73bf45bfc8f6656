"""results.csv of the label-efficiency study: typed reading and atomic appending.

One row per finished run: ``init``, ``fraction``, ``seed``, ``mIoU``, ``mDice`` (percent),
``IoU.<class>``, ``Dice.<class>``, ``curve`` (JSON list of ``[iteration, mIoU]``) and
``work_dir``. Only ``init``, ``fraction`` and ``seed`` are required; any other column may be
absent or empty and then reads as ``None`` (``[]`` for ``curve``). Extra columns (``seconds``,
``aAcc`` ...) are kept: numbers read as float, anything else as text.
"""
from __future__ import annotations

import csv
import io
import json
import os.path as osp
from typing import Dict, List, Mapping, Sequence

from ..fileio import atomic_write
from .stats import check_unique

REQUIRED = ('init', 'fraction', 'seed')
ORDER = ('init', 'fraction', 'seed', 'mIoU', 'mDice')
TRAILING = ('curve', 'work_dir')


def _is_metric(col: str) -> bool:
    return col in ('mIoU', 'mDice') or col.startswith(('IoU.', 'Dice.'))


def _parse(col: str, text: str, where: str) -> object:
    if text is None or text.strip() == '':
        return [] if col == 'curve' else None
    try:
        if col == 'fraction' or _is_metric(col):
            return float(text)
        if col == 'seed':
            return int(text)
        if col == 'curve':
            curve = json.loads(text)
            if not all(isinstance(p, list) and len(p) == 2 for p in curve):
                raise ValueError('not a list of [iteration, mIoU] pairs')
            return curve
    except ValueError as exc:
        raise ValueError(f'{where}: bad {col} value {text!r} ({exc})') from None
    if col in REQUIRED + TRAILING:
        return text
    try:  # an extra column
        return float(text)
    except ValueError:
        return text


def read_results(path: str) -> List[Dict[str, object]]:
    """Read results.csv into typed rows; [] when the file does not exist yet (no run finished).

    Raises ValueError naming the file, line and value on bad content.
    """
    if not osp.exists(path):
        return []
    with open(path, newline='', encoding='utf-8') as f:
        reader = csv.DictReader(f)
        missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f'{path}: required column(s) {missing} absent')
        rows = [{k: _parse(k, v, f'{path} line {reader.line_num}') for k, v in r.items()
                 if k is not None} for r in reader]
    for i, row in enumerate(rows):
        for c in ORDER + TRAILING:
            row.setdefault(c, [] if c == 'curve' else None)
        for c in REQUIRED:
            if row[c] is None:
                raise ValueError(f'{path}: row {i + 1} has an empty {c!r}')
    return rows


def _column_order(cols: Sequence[str]) -> List[str]:
    rest = sorted(c for c in cols if c not in ORDER + TRAILING)
    per_class = [c for c in rest if c.startswith(('IoU.', 'Dice.'))]
    other = [c for c in rest if c not in per_class]
    return ([c for c in ORDER if c in cols] + per_class + other
            + [c for c in TRAILING if c in cols])


def _fmt_cell(col: str, value: object) -> str:
    if value is None:
        return ''
    if col != 'curve':
        return str(value)
    if isinstance(value, str):  # already JSON: check it, keep it
        _parse(col, value, 'result row')
        return value
    return json.dumps([[int(p[0]), float(p[1])] for p in value])


def append_row(path: str, row: Mapping[str, object]) -> None:
    """Append one run to ``path``, rewriting the whole file to a temporary and ``os.replace``.

    A reader sees the old or the new file, never half of one. New columns are added to the
    header (earlier rows leave them empty). Concurrent writers are not serialised: one study
    process should own the file.

    Args:
        path (str): results.csv; created with its folder when absent. An earlier row of the
            same run without an mIoU (an unfinished run) is replaced.
        row (Mapping): One run; needs ``init``, ``fraction`` in (0, 1] and ``seed``;
            ``curve`` may be a list of pairs or its JSON text.
    """
    for c in REQUIRED:
        if row.get(c) is None:
            raise ValueError(f'result row lacks {c!r}: {dict(row)!r}')
    if not 0.0 < float(row['fraction']) <= 1.0:
        raise ValueError(f"fraction must be in (0, 1], got {row['fraction']!r}")
    old_rows: List[Dict[str, str]] = []
    cols: List[str] = []
    if osp.isfile(path):
        with open(path, newline='', encoding='utf-8') as f:
            reader = csv.DictReader(f)
            cols, old_rows = list(reader.fieldnames or []), list(reader)
    # a row without its metric is an unfinished run (a hand-truncated line, say): replaced
    key = tuple(str(_parse(c, str(row[c]), 'result row')) for c in REQUIRED)
    old_rows = [r for r in old_rows if (r.get('mIoU') or '').strip() or
                tuple(str(_parse(c, r.get(c), path)) for c in REQUIRED) != key]
    check_unique([{c: _parse(c, r.get(c), path) for c in REQUIRED} for r in old_rows] + [row])
    cols = _column_order(list(dict.fromkeys(cols + list(row))))
    buf = io.StringIO(newline='')
    writer = csv.DictWriter(buf, fieldnames=cols, restval='')
    writer.writeheader()
    writer.writerows(old_rows)
    writer.writerow({c: _fmt_cell(c, row.get(c)) for c in cols})
    atomic_write(path, buf.getvalue())
