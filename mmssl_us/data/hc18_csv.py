"""The one reader of the HC18 CSV: file name, pixel size (mm), head circumference (mm).

Two variants are read, with the same rules:

- the HC18 release's ``training_set_pixel_size_and_HC.csv`` (``filename``, ``pixel size(mm)``,
  ``head circumference (mm)``; the test set's CSV has no circumference column);
- the ``pixel_size.csv`` the HC18 converter writes (the same columns plus ``split``).

Column names are matched ignoring case and spaces (``pixel size (mm)`` is ``pixel size(mm)``),
a UTF-8 byte-order mark and Windows line ends are accepted, and cells are stripped. A row
whose pixel size is not a finite number > 0, whose circumference is given but is not a finite
number >= 0, whose file name is empty or repeats an earlier row stops with an error naming the
file and the line.
"""
import csv
import math
import os.path as osp
from typing import Dict, List, NamedTuple, Optional

__all__ = ['HC18Row', 'read_hc18_csv', 'pixel_sizes']

_COLUMNS = dict(filename='filename', pixel='pixelsize(mm)', hc='headcircumference(mm)',
                split='split')


class HC18Row(NamedTuple):
    """One row of an HC18 CSV."""
    filename: str
    pixel_size_mm: float
    head_circumference_mm: Optional[float]  # None where the CSV has no value
    split: Optional[str]  # only in the converter's CSV


def _norm(name: Optional[str]) -> str:
    return ''.join((name or '').split()).lower()


def _number(text: str, where: str, what: str, positive: bool) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float('nan')
    if not math.isfinite(value) or value < 0 or (positive and value == 0):
        need = 'a finite number > 0' if positive else 'a finite number >= 0'
        raise ValueError(f'{where}: bad {what} {text!r} (must be {need})')
    return value


def read_hc18_csv(path: str) -> List[HC18Row]:
    """Read the rows of an HC18 CSV (release or converted), in file order.

    Args:
        path (str): The CSV file.

    Returns:
        list[HC18Row]: One row per image; at least one.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: a required column is missing, a row is bad (the error names the file and
            line), or the file lists no image.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'HC18 CSV not found: {path}')
    rows: List[HC18Row] = []
    first_line: Dict[str, int] = {}
    with open(path, newline='', encoding='utf-8-sig') as f:
        reader = csv.reader(f)
        header = [_norm(h) for h in next(reader, [])]
        col = {key: header.index(name) for key, name in _COLUMNS.items() if name in header}
        if 'filename' not in col or 'pixel' not in col:
            raise ValueError(f'{path} needs the columns "filename" and "pixel size(mm)", found '
                             f'{header}')
        for cells in reader:
            lineno = reader.line_num
            if not any(c.strip() for c in cells):
                continue  # blank line
            cells = [c.strip() for c in cells] + [''] * (len(header) - len(cells))
            where = f'{path}, line {lineno}'
            name = cells[col['filename']]
            if not name:
                raise ValueError(f'{where}: empty filename')
            if name in first_line:
                raise ValueError(f'{where}: {name} is listed again (first on line '
                                 f'{first_line[name]})')
            first_line[name] = lineno
            pixel = _number(cells[col['pixel']], f'{where} ({name})', 'pixel size', True)
            hc_text = cells[col['hc']] if 'hc' in col else ''
            hc = _number(hc_text, f'{where} ({name})', 'head circumference',
                         False) if hc_text else None
            split = (cells[col['split']] or None) if 'split' in col else None
            rows.append(HC18Row(name, pixel, hc, split))
    if not rows:
        raise ValueError(f'{path} lists no images')
    return rows


def pixel_sizes(path: str) -> Dict[str, float]:
    """``filename -> pixel size (mm)`` from an HC18 CSV (see :func:`read_hc18_csv`)."""
    return {row.filename: row.pixel_size_mm for row in read_hc18_csv(path)}
