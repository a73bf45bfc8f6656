"""``summary.csv``: one row per image or frame."""
from __future__ import annotations

import csv
import io
from typing import List, Sequence

from ...fileio import atomic_write

from .head import HC_COLUMNS

__all__ = ['write_summary']


def write_summary(path: str, rows: List[dict], classes: Sequence[str], hc: bool) -> None:
    """Write ``rows`` atomically; the head columns only when ``hc``."""
    columns = ['file', 'frame', 'height', 'width'] + [f'pixels_{c}' for c in classes]
    if hc:
        columns += list(HC_COLUMNS)
    columns.append('error')
    buf = io.StringIO()
    writer = csv.DictWriter(buf, columns, restval='', lineterminator='\n')
    writer.writeheader()
    writer.writerows(rows)
    atomic_write(path, buf.getvalue())
