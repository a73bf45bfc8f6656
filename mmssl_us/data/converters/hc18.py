"""HC18 -> fetal head images, filled head masks and a pixel-size CSV, split by subject.

Input: the HC18 training set::

    <src>/training_set/NNN_HC.png, NNN_HC_Annotation.png (or NNN_kHC... for the k-th image)
    <src>/training_set_pixel_size_and_HC.csv   filename, pixel size(mm), head circumference (mm)

The CSV (either variant) is read by :func:`mmssl_us.data.hc18_csv.read_hc18_csv`.

The original release annotates each head by a 1-pixel ellipse outline; some copies ship filled
ellipses instead. Both are accepted: a mask most of whose pixels survive a 3x3 erosion is taken
as filled (its largest region is kept, holes filled), otherwise it is an outline and is filled
from its outer contour. When
the outline is open (a head cut by the image border), contour filling would only give back the
curve, so the ellipse is then fitted to the outline pixels and drawn filled.
"""
import csv
import io
import os.path as osp
from typing import Dict, Optional, Tuple

import cv2
import numpy as np

from ...fileio import atomic_write
from ..hc18_csv import read_hc18_csv
from ..splits import split_patients
from .common import claim_output, record_output, write_pair

__all__ = ['fill_head_annotation', 'convert_hc18']

CSV_NAME = 'training_set_pixel_size_and_HC.csv'
_FILLED_RATIO = 0.5  # share of foreground pixels surviving a 3x3 erosion: already filled


def fill_head_annotation(annotation: np.ndarray, source: str = '') -> Tuple[np.ndarray, str]:
    """Turn an HC18 annotation (outline or filled) into a filled 0/1 head mask.

    Args:
        annotation (np.ndarray): HxW grey annotation, head drawn bright on black.
        source (str): File name for error messages. Defaults to ''.

    Returns:
        tuple[np.ndarray, str]: The uint8 mask and how it was made: 'filled' (input already
        filled), 'contour' (closed outline filled) or 'ellipse' (open outline, ellipse fit).
    """
    binary = (annotation > 127).astype(np.uint8)
    n_fg = int(binary.sum())
    if n_fg == 0:
        raise ValueError(f'annotation {source} is empty: no head drawn')
    contours, _ = cv2.findContours(binary, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    filled = np.zeros_like(binary)
    cv2.drawContours(filled, [max(contours, key=cv2.contourArea)], -1, 1, thickness=cv2.FILLED)
    # A filled region survives a 3x3 erosion; an outline (1-2 px wide) vanishes.
    core = int(cv2.erode(binary, np.ones((3, 3), np.uint8)).sum())
    if core >= _FILLED_RATIO * n_fg:
        return filled, 'filled'
    if int(filled.sum()) > 2 * n_fg:  # a closed outline encloses far more than its own pixels
        return filled, 'contour'
    # an open outline (head cut by the border): contour filling gives back only the curve
    points = cv2.findNonZero(binary)
    if points is None or len(points) < 5:
        raise ValueError(f'annotation {source}: too few outline pixels to fit an ellipse')
    ellipse = cv2.fitEllipse(points)
    mask = np.zeros_like(binary)
    cv2.ellipse(mask, ellipse, 1, thickness=cv2.FILLED)
    return mask, 'ellipse'


def convert_hc18(src: str, out: str, seed: int = 0, val: float = 0.1, test: float = 0.2,
                 csv_path: Optional[str] = None) -> Dict[str, object]:
    """Convert the HC18 training set, split by subject (the number before the first ``_``).

    Args:
        src (str): HC18 folder (``training_set/`` and the CSV inside, or the images directly).
        out (str): Output dataset root; also gets ``pixel_size.csv``.
        seed (int): Seed of the subject split. Defaults to 0.
        val (float): Fraction of subjects for validation. Defaults to 0.1.
        test (float): Fraction of subjects for testing. Defaults to 0.2.
        csv_path (str, optional): The pixel-size CSV.
            Defaults to ``<src>/training_set_pixel_size_and_HC.csv``.

    Returns:
        dict: ``written`` per split and ``annotations`` (how many were filled/contour/ellipse).
    """
    img_dir = osp.join(src, 'training_set') if osp.isdir(osp.join(src, 'training_set')) else src
    settings = dict(converter='hc18', src=osp.abspath(src), seed=seed, val=val, test=test,
                    csv=osp.abspath(csv_path) if csv_path else None)
    if claim_output(out, settings):  # never on top of a conversion with other settings
        return dict(written='reused (converted before with these settings)', annotations={})
    rows = read_hc18_csv(csv_path or osp.join(src, CSV_NAME))
    subjects = sorted({row.filename.split('_', 1)[0] for row in rows})
    assignment = split_patients(subjects, seed, val=val, test=test)
    written = {'train': 0, 'val': 0, 'test': 0}
    kinds = {'filled': 0, 'contour': 0, 'ellipse': 0}
    table = []
    for name, pixel, hc, _ in rows:
        stem = osp.splitext(name)[0]
        img_path = osp.join(img_dir, name)
        ann_path = osp.join(img_dir, stem + '_Annotation.png')
        for path in (img_path, ann_path):
            if not osp.isfile(path):
                raise FileNotFoundError(f'HC18 file listed in the CSV not found: {path}')
        image = cv2.imread(img_path, cv2.IMREAD_GRAYSCALE)
        annotation = cv2.imread(ann_path, cv2.IMREAD_GRAYSCALE)
        for path, arr in ((img_path, image), (ann_path, annotation)):
            if arr is None:
                raise ValueError(f'unreadable image {path}')
        if image.shape != annotation.shape:
            raise ValueError(f'{ann_path} is {annotation.shape}, its image {image.shape}')
        mask, kind = fill_head_annotation(annotation, ann_path)
        kinds[kind] += 1
        split = assignment[name.split('_', 1)[0]]
        write_pair(out, split, stem, image, mask)
        written[split] += 1
        table.append((stem + '.png', pixel, '' if hc is None else hc, split))
    text = io.StringIO(newline='')
    writer = csv.writer(text)
    writer.writerow(['filename', 'pixel size(mm)', 'head circumference (mm)', 'split'])
    writer.writerows(table)
    atomic_write(osp.join(out, 'pixel_size.csv'), text.getvalue())
    record_output(out, settings)
    return dict(written=written, annotations=kinds)
