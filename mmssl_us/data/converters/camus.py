"""CAMUS -> 2CH/4CH ED/ES images and 4-class masks in the mmssl_us folder layout.

Input: the public CAMUS release, either version::

    <src>/**/patientXXXX/patientXXXX_{2CH,4CH}_{ED,ES}.mhd (+ .raw) and ..._gt.mhd   (2019)
    <src>/**/patientXXXX/patientXXXX_{2CH,4CH}_{ED,ES}.nii.gz and ..._gt.nii.gz      (2023)

Labels of the ``_gt`` files: 0 background, 1 LV endocardium, 2 LV myocardium, 3 left atrium.
Images without a ``_gt`` file (the 2019 test patients) are skipped and counted. The split is by
patient: the official one when a folder with ``subgroup_{training,validation,testing}.txt``
(the 2023 ``database_split``) is given, else a seeded patient-level split.
"""
import os
import os.path as osp
import re
from collections import defaultdict
from typing import Dict, List, Optional, Tuple

import numpy as np

from ..splits import split_patients
from .common import claim_output, record_output, to_uint8, write_pair
from .medical_io import read_image_2d

__all__ = ['find_camus_files', 'read_official_split', 'convert_camus']

_NAME = re.compile(r'^(patient\d+)_(2CH|4CH)_(ED|ES)(_gt)?\.(mhd|nii|nii\.gz)$', re.IGNORECASE)
_OFFICIAL = (('subgroup_training.txt', 'train'), ('subgroup_validation.txt', 'val'),
             ('subgroup_testing.txt', 'test'))
NUM_LABELS = 4


def find_camus_files(src: str) -> Dict[str, Dict[str, Optional[str]]]:
    """Find the ED/ES images and masks under ``src``.

    Returns:
        dict: ``patientXXXX_{2CH,4CH}_{ED,ES}`` -> ``{'image': path, 'mask': path | None}``.
    """
    if not osp.isdir(src):
        raise FileNotFoundError(f'CAMUS folder not found: {src}')
    found: Dict[str, Dict[str, Optional[str]]] = defaultdict(lambda: dict(image=None, mask=None))
    for root, _, files in os.walk(src):
        for fname in sorted(files):
            m = _NAME.match(fname)
            if m is None:
                continue
            stem = f'{m.group(1).lower()}_{m.group(2).upper()}_{m.group(3).upper()}'
            kind = 'mask' if m.group(4) else 'image'
            if found[stem][kind] is not None:
                raise ValueError(f'two files for {stem} {kind}: {found[stem][kind]} and '
                                 f'{osp.join(root, fname)}')
            found[stem][kind] = osp.join(root, fname)
    if not found:
        raise ValueError(f'no CAMUS files (patientXXXX_2CH_ED.mhd / .nii.gz) under {src}')
    for stem, pair in found.items():
        if pair['image'] is None:
            raise FileNotFoundError(f'mask {pair["mask"]} has no image {stem}')
    return dict(found)


def read_official_split(split_dir: str) -> Dict[str, str]:
    """``patientXXXX -> split`` from the CAMUS ``subgroup_*.txt`` files."""
    out: Dict[str, str] = {}
    for fname, split in _OFFICIAL:
        path = osp.join(split_dir, fname)
        if not osp.isfile(path):
            raise FileNotFoundError(f'official CAMUS split file not found: {path}')
        with open(path, encoding='utf-8') as f:
            for line in f:
                name = line.strip().lower()
                if name:
                    if name in out:
                        raise ValueError(f'{name} is listed in two official split files')
                    out[name] = split
    return out


def _read_pair(image_path: str, mask_path: str) -> Tuple[np.ndarray, np.ndarray]:
    image = to_uint8(read_image_2d(image_path), image_path)
    mask = read_image_2d(mask_path)
    if image.shape != mask.shape:
        raise ValueError(f'mask {mask_path} is {mask.shape} but image {image_path} is '
                         f'{image.shape}')
    if not np.all(np.isfinite(mask)) or np.any(mask != np.round(mask)):
        raise ValueError(f'mask {mask_path} has non-integer values')
    values = set(np.unique(mask).astype(int).tolist())
    if not values <= set(range(NUM_LABELS)):
        raise ValueError(f'mask {mask_path} has labels {sorted(values)}; CAMUS labels are 0-3')
    return image, mask.astype(np.uint8)


def _folder_md5(folder: str) -> str:
    """md5 over the names and bytes of the files in ``folder`` (the official split files)."""
    import hashlib
    h = hashlib.md5()
    for name in sorted(os.listdir(folder)):
        path = osp.join(folder, name)
        if osp.isfile(path):
            h.update(name.encode())
            with open(path, 'rb') as f:
                h.update(f.read())
    return h.hexdigest()


def convert_camus(src: str, out: str, seed: int = 0, val: float = 0.1, test: float = 0.1,
                  split_dir: Optional[str] = None) -> Dict[str, object]:
    """Convert CAMUS to ``<out>/{images,masks}/{train,val,test}/patientXXXX_{view}_{phase}``.

    Args:
        src (str): CAMUS folder.
        out (str): Output dataset root.
        seed (int): Seed of the patient split (ignored with ``split_dir``). Defaults to 0.
        val (float): Fraction of patients for validation. Defaults to 0.1.
        test (float): Fraction of patients for testing. Defaults to 0.1.
        split_dir (str, optional): Folder with the official ``subgroup_*.txt``.
            Defaults to None.

    Returns:
        dict: ``written`` per split, ``skipped`` (images without masks), ``split``
        ('official' or 'seed <n>').
    """
    files = find_camus_files(src)
    settings = dict(converter='camus', src=osp.abspath(src), seed=seed, val=val, test=test,
                    split_dir=osp.abspath(split_dir) if split_dir else None,
                    split_files=_folder_md5(split_dir) if split_dir else None)
    if claim_output(out, settings):  # never on top of a conversion with other settings
        return dict(written='reused (converted before with these settings)', skipped=[],
                    split='reused')
    labelled = {stem: pair for stem, pair in files.items() if pair['mask'] is not None}
    skipped: List[str] = sorted(set(files) - set(labelled))
    if not labelled:
        raise ValueError(f'no CAMUS image under {src} has a _gt mask')
    patients = sorted({stem.split('_')[0] for stem in labelled})
    if split_dir is not None:
        assignment = read_official_split(split_dir)
        unlisted = [p for p in patients if p not in assignment]
        if unlisted:
            raise ValueError(f'patients {unlisted[:5]} are in no official split file of '
                             f'{split_dir}')
        how = 'official'
    else:
        assignment = split_patients(patients, seed, val=val, test=test)
        how = f'seed {seed}'
    written = {'train': 0, 'val': 0, 'test': 0}
    for stem, pair in sorted(labelled.items()):
        image, mask = _read_pair(pair['image'], pair['mask'])  # type: ignore[arg-type]
        split = assignment[stem.split('_')[0]]
        write_pair(out, split, stem, image, mask)
        written[split] += 1
    record_output(out, settings)
    return dict(written=written, skipped=skipped, split=how)
