"""Synthetic volumes and the NIfTI -> nnU-Net raw converter: layout, patient split, refusals
(each naming the file and the value). numpy + nibabel only; no nnU-Net needed."""
import json
import os
import os.path as osp

import numpy as np
import pytest

from mmssl_us.data.converters.medical_io import read_nifti
from mmssl_us.volume.convert import convert_to_nnunet, read_volume
from mmssl_us.volume.synthetic import generate_volume, write_nifti, write_volume_folder


def test_volumes_are_seeded_labelled_speckled_and_attenuated():
    a, mask = generate_volume(3, (16, 20, 24))
    b, _ = generate_volume(3, (16, 20, 24))
    np.testing.assert_array_equal(a, b)
    assert a.shape == mask.shape == (16, 20, 24) and a.dtype == mask.dtype == np.uint8
    assert set(np.unique(mask)) == {0, 1} and 0.03 < mask.mean() < 0.4
    assert not np.array_equal(a, generate_volume(4, (16, 20, 24))[0])
    # the structure differs from the background by more than the speckle's grain
    assert abs(a[mask == 1].mean() - a[mask == 0].mean()) > 20
    bg = a[(mask == 0)]
    assert bg.std() > 10  # speckle, not a flat background


def test_folder_has_spacing_in_header_and_patients_in_names(tmp_path):
    counts = write_volume_folder(str(tmp_path), 2, 3, size=12, spacing=(2.0, 0.5, 0.5))
    assert counts == dict(images=2, masks=2, unlabelled=3)
    path = tmp_path / 'images' / 'lab001_0.nii.gz'
    vol, spacing = read_volume(str(path))
    assert vol.shape == (12, 12, 12) and spacing == (2.0, 0.5, 0.5)
    np.testing.assert_array_equal(read_nifti(str(tmp_path / 'masks' / 'lab001_0.nii.gz')) <= 1,
                                  True)
    assert sorted(os.listdir(tmp_path / 'unlabelled')) == [f'unl00{i}_0.nii.gz' for i in range(3)]


def _convert(src, tmp_path, **kw):
    return convert_to_nnunet(str(src), str(tmp_path / 'raw'), 7, 'Tiny', **kw)


def test_converter_writes_the_nnunet_raw_layout_split_by_patient(tmp_path):
    src = tmp_path / 'src'
    write_volume_folder(str(src), 10, 4, size=12)
    out = _convert(src, tmp_path, label_names=['lesion'])
    assert osp.basename(out) == 'Dataset007_Tiny'
    ds = json.loads(open(osp.join(out, 'dataset.json')).read())
    assert ds['labels'] == dict(background=0, lesion=1) and ds['channel_names'] == {'0': 'US'}
    assert ds['file_ending'] == '.nii.gz'
    tr = sorted(os.listdir(osp.join(out, 'imagesTr')))
    ts = sorted(os.listdir(osp.join(out, 'imagesTs')))
    assert ds['numTraining'] == len(tr) == len(os.listdir(osp.join(out, 'labelsTr')))
    assert all(f.endswith('_0000.nii.gz') for f in tr + ts) and len(tr) + len(ts) == 10
    assert sorted(os.listdir(osp.join(out, 'labelsTs'))) == [f.replace('_0000', '') for f in ts]
    assert len(os.listdir(osp.join(out, 'imagesUnlabelled'))) == 4
    fold = json.loads(open(osp.join(out, 'splits_final.json')).read())[0]
    assert sorted(fold['train'] + fold['val']) == [f.replace('_0000.nii.gz', '') for f in tr]
    assert fold['val'] and ts  # every split has a patient
    # the patient map says where each patient went, and the files follow it
    patients = ds['mmssl_us']['patients']
    for f in ts:
        assert patients[f.split('_')[0]] == 'test'
    for case in fold['val']:
        assert patients[case.split('_')[0]] == 'val'
    # a converted volume is the source, byte for byte
    case = tr[0].replace('_0000', '')
    np.testing.assert_array_equal(read_nifti(osp.join(out, 'imagesTr', tr[0])),
                                  read_nifti(str(src / 'images' / case)))


def test_an_unlabelled_volume_of_a_test_or_val_patient_is_refused(tmp_path):
    src = tmp_path / 'src'
    write_volume_folder(str(src), 10, 0, size=10)
    ds = json.loads(open(osp.join(_convert(src, tmp_path), 'dataset.json')).read())
    held_out = sorted(p for p, s in ds['mmssl_us']['patients'].items() if s != 'train')[0]
    vol = read_nifti(str(src / 'images' / f'{held_out}_0.nii.gz'))
    write_nifti(str(src / 'unlabelled' / f'{held_out}_sweep2.nii.gz'), vol, (1, 1, 1))
    with pytest.raises(ValueError, match=rf'{held_out}_sweep2.*{held_out}'):
        _convert(src, tmp_path)


def _one_case(src, image, mask, spacing=(1.0, 1.0, 1.0), mask_spacing=None):
    for sub in ('images', 'masks'):
        os.makedirs(src / sub, exist_ok=True)
    write_nifti(str(src / 'images' / 'p1_a.nii.gz'), image, spacing)
    write_nifti(str(src / 'masks' / 'p1_a.nii.gz'), mask, mask_spacing or spacing)


def test_refusals_name_the_file_and_the_value(tmp_path):
    import nibabel as nib
    vol = np.zeros((8, 8, 8), np.uint8)
    mask = np.zeros((8, 8, 8), np.uint8)
    mask[2:5, 2:5, 2:5] = 1
    cases = [
        (np.zeros((8, 8), np.uint8), mask, r'images/p1_a.nii.gz.*volume.*\(8, 8\)'),
        (np.zeros((8, 8, 1), np.uint8), mask, r'images/p1_a.nii.gz.*\(8, 8, 1\)'),
        (vol, np.zeros((8, 8, 6), np.uint8), r'masks/p1_a.nii.gz.*\(8, 8, 6\).*\(8, 8, 8\)'),
        (vol, mask * 2, r'consecutive.*\[0, 2\].*missing \[1\]'),
        (vol, mask.astype(np.float32) * 0.5, r'masks/p1_a.nii.gz.*integers.*0.5'),
    ]
    for k, (image, bad_mask, message) in enumerate(cases):
        src = tmp_path / f'case{k}'
        _one_case(src, image, bad_mask)
        with pytest.raises(ValueError, match=message):
            _convert(src, tmp_path)
    # a header without spacing: no qform and no sform
    src = tmp_path / 'nospacing'
    _one_case(src, vol, mask)
    img = nib.Nifti1Image(vol, None)
    img.header.set_qform(None, code=0)
    img.header.set_sform(None, code=0)
    nib.save(img, str(src / 'images' / 'p1_a.nii.gz'))
    with pytest.raises(ValueError, match=r'images/p1_a.nii.gz.*no spacing'):
        _convert(src, tmp_path)
    # a mask on another grid than its image
    src = tmp_path / 'grid'
    _one_case(src, vol, mask, mask_spacing=(2.0, 1.0, 1.0))
    with pytest.raises(ValueError, match=r'masks/p1_a.nii.gz.*spacing.*2.0'):
        _convert(src, tmp_path)
