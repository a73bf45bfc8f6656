"""CAMUS conversion on tiny patients written as MetaImage (2019) and NIfTI (2023)."""
import os
import os.path as osp

import cv2
import numpy as np
import pytest

from mmssl_us.data.converters.camus import convert_camus

from ._writers import write_mhd, write_nifti

VIEWS = [(v, p) for v in ('2CH', '4CH') for p in ('ED', 'ES')]


def _case(rng, h=30, w=22):
    image = rng.integers(0, 256, (h, w)).astype(np.uint8)
    mask = np.zeros((h, w), np.uint8)
    mask[5:12, 4:15] = 1
    mask[12:18, 4:15] = 2
    mask[18:25, 6:12] = 3
    return image, mask


def _write_patient(src, pid, fmt, rng, with_gt=True):
    folder = osp.join(src, pid)
    os.makedirs(folder, exist_ok=True)
    arrays = {}
    for view, phase in VIEWS:
        image, mask = _case(rng)
        stem = f'{pid}_{view}_{phase}'
        arrays[stem] = (image, mask)
        for suffix, arr in (('', image), ('_gt', mask)):
            if suffix and not with_gt:
                continue
            if fmt == 'mhd':
                write_mhd(osp.join(folder, stem + suffix + '.mhd'), arr)
            else:
                write_nifti(osp.join(folder, stem + suffix + '.nii.gz'), arr)
    return arrays


@pytest.fixture
def release(tmp_path):
    rng = np.random.default_rng(1)
    src = str(tmp_path / 'camus')
    arrays = {}
    for i in range(1, 11):
        arrays.update(_write_patient(src, f'patient{i:04d}', 'mhd' if i % 2 else 'nii', rng))
    _write_patient(src, 'patient0099', 'mhd', rng, with_gt=False)  # like the 2019 test set
    return src, arrays


def _read(out, kind, split, stem):
    return cv2.imread(osp.join(out, kind, split, stem + '.png'), cv2.IMREAD_UNCHANGED)


def test_convert_seeded_split(release, tmp_path):
    src, arrays = release
    out = str(tmp_path / 'out')
    summary = convert_camus(src, out, seed=0, val=0.1, test=0.2)
    assert summary['written'] == {'train': 28, 'val': 4, 'test': 8}  # 7/1/2 patients x 4
    assert len(summary['skipped']) == 4 and all('patient0099' in s for s in summary['skipped'])
    for stem, (image, mask) in arrays.items():
        splits = [s for s in ('train', 'val', 'test')
                  if osp.isfile(osp.join(out, 'images', s, stem + '.png'))]
        assert len(splits) == 1
        np.testing.assert_array_equal(_read(out, 'images', splits[0], stem), image)
        np.testing.assert_array_equal(_read(out, 'masks', splits[0], stem), mask)
    # all four images of a patient share its split
    for i in range(1, 11):
        pid = f'patient{i:04d}'
        where = {s for s in ('train', 'val', 'test') for v, p in VIEWS
                 if osp.isfile(osp.join(out, 'images', s, f'{pid}_{v}_{p}.png'))}
        assert len(where) == 1


def test_official_split(release, tmp_path):
    src, _ = release
    split_dir = tmp_path / 'split'
    os.makedirs(split_dir)
    names = [f'patient{i:04d}' for i in range(1, 11)]
    for fname, chunk in (('subgroup_training.txt', names[:6]),
                         ('subgroup_validation.txt', names[6:8]),
                         ('subgroup_testing.txt', names[8:])):
        (split_dir / fname).write_text('\n'.join(chunk) + '\n')
    out = str(tmp_path / 'out')
    summary = convert_camus(src, out, split_dir=str(split_dir))
    assert summary['split'] == 'official'
    assert summary['written'] == {'train': 24, 'val': 8, 'test': 8}
    assert osp.isfile(osp.join(out, 'masks', 'val', 'patient0007_4CH_ES.png'))
    (split_dir / 'subgroup_testing.txt').write_text('patient0009\n')
    with pytest.raises(ValueError, match=r"\['patient0010'\] are in no official split"):
        convert_camus(src, str(tmp_path / 'out2'), split_dir=str(split_dir))
    with pytest.raises(ValueError, match='other settings'):  # changed split files, same out
        convert_camus(src, out, split_dir=str(split_dir))


def test_bad_label_named(release, tmp_path):
    src, _ = release
    image, mask = _case(np.random.default_rng(0))
    mask[0, 0] = 5
    write_mhd(osp.join(src, 'patient0001', 'patient0001_2CH_ED_gt.mhd'), mask)
    with pytest.raises(ValueError, match=r'patient0001_2CH_ED_gt.mhd has labels \[0, 1, 2, 3, 5\]'):
        convert_camus(src, str(tmp_path / 'out'))


def test_size_mismatch_named(release, tmp_path):
    src, _ = release
    write_mhd(osp.join(src, 'patient0003', 'patient0003_4CH_ES_gt.mhd'),
              np.zeros((31, 22), np.uint8))
    with pytest.raises(ValueError, match='patient0003_4CH_ES_gt.mhd is \\(31, 22\\)'):
        convert_camus(src, str(tmp_path / 'out'))


def test_empty_folder_named(tmp_path):
    with pytest.raises(ValueError, match='no CAMUS files'):
        convert_camus(str(tmp_path), str(tmp_path / 'out'))
