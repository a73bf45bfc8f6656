"""A folder of NIfTI volumes (and their masks) to nnU-Net v2's raw layout.

Input (what :func:`mmssl_us.volume.synthetic.write_volume_folder` writes, and what a user
brings)::

    src/images/<patient>_<anything>.nii.gz      volumes with a mask of the same name
    src/masks/<patient>_<anything>.nii.gz       their labels (0 background, 1..K)
    src/unlabelled/<patient>_<anything>.nii.gz  volumes without masks (pretraining only)

Output, nnU-Net's contract (``documentation/dataset_format.md`` of nnU-Net v2)::

    DatasetXXX_Name/dataset.json
    DatasetXXX_Name/imagesTr/<case>_0000.nii.gz, labelsTr/<case>.nii.gz     train + val
    DatasetXXX_Name/imagesTs/<case>_0000.nii.gz, labelsTs/<case>.nii.gz     the fixed test split
    DatasetXXX_Name/imagesUnlabelled/<case>_0000.nii.gz                     kept apart
    DatasetXXX_Name/splits_final.json                                        fold 0: train / val

The split is by patient (:func:`mmssl_us.data.splits.split_patients`; the patient is the file
name's prefix up to the first ``_``), and an unlabelled volume of a val or test patient is
refused (no test patient in pretraining). nnU-Net reads only ``imagesTr``/``labelsTr`` for
planning and training; ``splits_final.json`` is copied next to the preprocessed data by
:func:`mmssl_us.volume.nnunet.plan_and_preprocess` so that nnU-Net's fold 0 is our split.

Refused, with the file and the value named: a 2D image (or one with a singleton axis) where a
volume is needed, a volume whose header gives no spacing, a mask whose shape differs from its
image, labels that are not integers or not consecutive from 0.
"""
import json
import os
import os.path as osp
import re
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from ..data.splits import patient_id, split_patients
from ..fileio import atomic_copy, atomic_write

SUFFIX = '.nii.gz'
UNLABELLED = 'imagesUnlabelled'


def read_volume(path: str) -> Tuple[np.ndarray, Tuple[float, ...]]:
    """Read a NIfTI volume (row-major DxHxW) and its spacing (D, H, W), refusing bad input.

    Raises:
        ValueError: not 3D (a 2D image, a singleton axis, 4D), or no spacing in the header
            (neither a qform nor an sform, or a non-positive voxel size), naming ``path``.
    """
    import nibabel as nib
    from ..data.converters.medical_io import read_nifti
    data = read_nifti(path)
    if data.ndim != 3 or min(data.shape) < 2:
        raise ValueError(f'{path}: a volume (3 axes of at least 2 voxels) is needed, got an '
                         f'array of shape {data.shape}')
    header = nib.load(path).header
    zooms = tuple(float(z) for z in header.get_zooms()[:3])[::-1]
    if int(header['qform_code']) == 0 and int(header['sform_code']) == 0:
        raise ValueError(f'{path}: the header gives no spacing (qform_code = sform_code = 0, '
                         f'pixdim {zooms}); write the voxel size in mm into the NIfTI header')
    if not all(np.isfinite(z) and z > 0 for z in zooms):
        raise ValueError(f'{path}: the header gives no valid spacing: {zooms}')
    return data, zooms


def check_labels(path: str, mask: np.ndarray) -> List[int]:
    """The label values of a mask, refusing non-integers (naming ``path`` and the value)."""
    values = np.unique(mask)
    if mask.dtype.kind == 'f':
        bad = values[values != np.round(values)]
        if bad.size:
            raise ValueError(f'{path}: labels must be integers, found {bad[0]!r}')
    if values.size and values.min() < 0:
        raise ValueError(f'{path}: labels must be >= 0, found {values.min()!r}')
    return [int(v) for v in values]


def _scan(folder: str) -> Dict[str, str]:
    if not osp.isdir(folder):
        return {}
    return {f[:-len(SUFFIX)]: osp.join(folder, f) for f in sorted(os.listdir(folder))
            if f.endswith(SUFFIX)}


def _case_name(stem: str) -> str:
    """A case name nnU-Net accepts (letters, digits, ``_`` and ``-``)."""
    if not re.fullmatch(r'[A-Za-z0-9_\-]+', stem):
        raise ValueError(f'case name {stem!r} must hold letters, digits, "_" or "-" only')
    return stem


def convert_to_nnunet(src: str, raw_root: str, dataset_id: int, name: str,
                      label_names: Optional[Sequence[str]] = None, channel: str = 'US',
                      val: float = 0.2, test: float = 0.2, seed: int = 0) -> str:
    """Write ``src`` (see the module docstring) as ``raw_root/DatasetXXX_Name``.

    Args:
        src (str): Folder with ``images/``, ``masks/`` and (optional) ``unlabelled/``.
        raw_root (str): nnU-Net's raw folder (``nnUNet_raw``).
        dataset_id (int): Three-digit dataset id (1..999).
        name (str): Dataset name.
        label_names (Sequence[str], optional): Names of labels 1..K. Defaults to
            ``label1``...
        channel (str): Name of the single input channel; any name but 'CT' makes nnU-Net
            z-score each volume. Defaults to 'US'.
        val (float): Fraction of labelled patients for validation (fold 0). Defaults to 0.2.
        test (float): Fraction of labelled patients for the fixed test split. Defaults to 0.2.
        seed (int): Seed of the patient split. Defaults to 0.

    Returns:
        str: The dataset folder.
    """
    if not isinstance(dataset_id, int) or not 1 <= dataset_id <= 999:
        raise ValueError(f'dataset_id must be an int in 1..999, got {dataset_id!r}')
    images, masks = _scan(osp.join(src, 'images')), _scan(osp.join(src, 'masks'))
    unlabelled = _scan(osp.join(src, 'unlabelled'))
    if not images:
        raise ValueError(f'no {SUFFIX} volumes in {osp.join(src, "images")}')
    orphans = sorted(set(masks) - set(images))
    if orphans:
        raise ValueError(f'masks without an image: {masks[orphans[0]]}')
    no_mask = sorted(set(images) - set(masks))
    if no_mask:
        raise ValueError(f'{images[no_mask[0]]} has no mask in {osp.join(src, "masks")}; put '
                         'volumes without masks into unlabelled/')

    labels_seen = set()
    for stem in images:
        image, spacing = read_volume(images[stem])
        mask, mask_spacing = read_volume(masks[stem])
        if mask.shape != image.shape:
            raise ValueError(f'{masks[stem]}: mask shape {mask.shape} differs from the shape '
                             f'{image.shape} of its image {images[stem]}')
        if not np.allclose(mask_spacing, spacing, rtol=1e-3):
            raise ValueError(f'{masks[stem]}: mask spacing {mask_spacing} differs from the '
                             f'spacing {spacing} of its image {images[stem]}')
        labels_seen.update(check_labels(masks[stem], mask))
    for path in unlabelled.values():
        read_volume(path)
    k = max(labels_seen)
    if sorted(labels_seen) != list(range(k + 1)) or k < 1:
        missing = sorted(set(range(max(k, 1) + 1)) - labels_seen)
        raise ValueError(f'labels must be consecutive integers 0..K with K >= 1 over the masks '
                         f'of {osp.join(src, "masks")}: found {sorted(labels_seen)}, missing '
                         f'{missing}')
    label_names = list(label_names or [f'label{i}' for i in range(1, k + 1)])
    if len(label_names) != k:
        raise ValueError(f'label_names holds {len(label_names)} names, the masks have {k} '
                         f'labels: {sorted(labels_seen)}')

    pids = {stem: patient_id(stem + '.nii.gz') for stem in list(images) + list(unlabelled)}
    split = split_patients([pids[s] for s in images], seed, val, test)
    for stem, path in unlabelled.items():
        if split.get(pids[stem]) in ('val', 'test'):
            raise ValueError(f'{path}: unlabelled volume of patient {pids[stem]!r}, who is in '
                             f'the {split[pids[stem]]} split; it must not be pretrained on')

    out = osp.join(raw_root, f'Dataset{dataset_id:03d}_{name}')
    for sub in ('imagesTr', 'labelsTr', 'imagesTs', 'labelsTs', UNLABELLED):
        os.makedirs(osp.join(out, sub), exist_ok=True)
    fold = dict(train=[], val=[])
    for stem in images:
        case = _case_name(stem)
        where = split[pids[stem]]
        tr = 'Ts' if where == 'test' else 'Tr'
        atomic_copy(images[stem], osp.join(out, f'images{tr}', f'{case}_0000{SUFFIX}'))
        atomic_copy(masks[stem], osp.join(out, f'labels{tr}', f'{case}{SUFFIX}'))
        if where != 'test':
            fold[where].append(case)
    for stem, path in unlabelled.items():
        atomic_copy(path, osp.join(out, UNLABELLED, f'{_case_name(stem)}_0000{SUFFIX}'))
    dataset = dict(
        channel_names={'0': channel},
        labels=dict(background=0, **{n: i for i, n in enumerate(label_names, start=1)}),
        numTraining=len(fold['train']) + len(fold['val']),
        file_ending=SUFFIX,
        name=name,
        mmssl_us=dict(patients=split, unlabelled=sorted(unlabelled), seed=seed, val=val,
                      test=test))
    atomic_write(osp.join(out, 'dataset.json'), json.dumps(dataset, indent=2))
    atomic_write(osp.join(out, 'splits_final.json'), json.dumps([fold], indent=2))
    return out
