"""prepare_folder: the study's linked view of a user's folder, val carved by patient."""
import json
import os
import os.path as osp

import cv2
import numpy as np
import pytest

from mmssl_us.data.layout import LAYOUT_FILE, prepare_folder


def _write(root, split, name, size=(40, 48), colour=False, mask_name=None, value=1):
    rng = np.random.default_rng(abs(hash(name)) % 2**32)
    img = rng.integers(0, 255, size=size + ((3, ) if colour else ()), dtype=np.uint8)
    mask = np.zeros(size, np.uint8)
    mask[5:15, 5:20] = value
    os.makedirs(osp.join(root, 'images', split, osp.dirname(name)), exist_ok=True)
    os.makedirs(osp.join(root, 'masks', split, osp.dirname(name)), exist_ok=True)
    cv2.imwrite(osp.join(root, 'images', split, name), img)
    stem = osp.splitext(name)[0]
    cv2.imwrite(osp.join(root, 'masks', split, mask_name or stem + '.png'), mask)


def make_folder(root, train_patients=8, frames=3, test_patients=2, suffix='.png'):
    for p in range(train_patients):
        for f in range(frames):
            _write(root, 'train', f'P{p}_{f}{suffix}', colour=(p % 2 == 1))
    for p in range(test_patients):
        _write(root, 'test', f'T{p}_0{suffix}')
    return root


def _snapshot(root):
    return sorted((osp.relpath(osp.join(d, f), root), os.stat(osp.join(d, f)).st_mtime_ns)
                  for d, _, fs in os.walk(root) for f in fs)


def test_val_carved_by_patient_and_source_untouched(tmp_path):
    src = make_folder(str(tmp_path / 'src'))
    before = _snapshot(src)
    rec = prepare_folder(src, str(tmp_path / 'view'), val=0.25, seed=0, log=None)
    assert _snapshot(src) == before  # nothing written into the user's folder
    assert rec['val_carved'] and rec['img_suffix'] == '.png'
    assert rec['patients'] == dict(train=6, val=2, test=2)
    assert rec['counts'] == dict(train=18, val=6, test=2)
    view = tmp_path / 'view'
    train = {n.split('_')[0] for n in os.listdir(view / 'images' / 'train')}
    val = {n.split('_')[0] for n in os.listdir(view / 'images' / 'val')}
    assert not train & val and len(val) == 2 and sorted(val) == rec['val_patients']
    for split in ('train', 'val', 'test'):  # every image has its mask, same stem
        imgs = sorted(os.listdir(view / 'images' / split))
        assert imgs == sorted(os.listdir(view / 'masks' / split))
    # seeded: another seed, another carving; the same seed, the same one
    other = prepare_folder(src, str(tmp_path / 'view2'), val=0.25, seed=3, log=None)
    again = prepare_folder(src, str(tmp_path / 'view3'), val=0.25, seed=0, log=None)
    assert again['val_patients'] == rec['val_patients']
    assert other['val_patients'] != rec['val_patients']


def test_reused_on_resume_and_changed_source_refused(tmp_path):
    src = make_folder(str(tmp_path / 'src'))
    view = str(tmp_path / 'view')
    rec = prepare_folder(src, view, log=None)
    mtime = os.stat(osp.join(view, LAYOUT_FILE)).st_mtime_ns
    assert prepare_folder(src, view, log=None) == rec
    assert os.stat(osp.join(view, LAYOUT_FILE)).st_mtime_ns == mtime  # reused, not rewritten
    with pytest.raises(ValueError, match='changed: seed'):
        prepare_folder(src, view, seed=5, log=None)
    _write(src, 'train', 'P9_0.png')
    with pytest.raises(ValueError, match='changed: .*digest'):
        prepare_folder(src, view, log=None)


def test_own_val_kept_and_unlabelled_linked(tmp_path):
    src = make_folder(str(tmp_path / 'src'))
    _write(src, 'val', 'V0_0.png')
    os.makedirs(osp.join(src, 'unlabelled', 'clips'))
    cv2.imwrite(osp.join(src, 'unlabelled', 'clips', 'U1_0.png'), np.zeros((8, 8), np.uint8))
    rec = prepare_folder(src, str(tmp_path / 'view'), log=None)
    assert not rec['val_carved'] and rec['counts']['val'] == 1
    assert rec['unlabelled'] == osp.join(osp.abspath(src), 'unlabelled')
    from mmssl_us.data.media import scan_media
    images, _ = scan_media(str(tmp_path / 'view' / 'unlabelled'))
    assert [osp.basename(p) for p in images] == ['U1_0.png']


def test_sub_folders_and_mask_suffix(tmp_path):
    src = str(tmp_path / 'src')
    for p in ('a', 'b', 'c', 'd'):
        _write(src, 'train', f'{p}/0.jpg', mask_name=f'{p}/0_mask.png')
    _write(src, 'test', 'e/0.jpg', mask_name='e/0_mask.png')
    rec = prepare_folder(src, str(tmp_path / 'view'), val=0.25, mask_suffix='_mask.png',
                         log=None)
    assert rec['img_suffix'] == '.jpg' and rec['patients']['val'] == 1
    names = os.listdir(tmp_path / 'view' / 'images' / 'test')
    assert names == ['e__0.jpg']  # the sub-folder (a patient) is kept in front of the name
    assert os.listdir(tmp_path / 'view' / 'masks' / 'test') == ['e__0.png']


@pytest.mark.parametrize('case,match', [
    ('no_mask', 'have no mask'),
    ('mixed', 'several suffixes'),
    ('shared', 'in both train and test'),
    ('one_patient', 'cannot be carved'),
    ('no_test', 'images/test not found'),
])
def test_bad_folders_are_named(tmp_path, case, match):
    src = str(tmp_path / 'src')
    if case == 'one_patient':
        _write(src, 'train', 'P0_0.png')
        _write(src, 'train', 'P0_1.png')
        _write(src, 'test', 'T0_0.png')
    else:
        make_folder(src)
    if case == 'no_mask':
        os.remove(osp.join(src, 'masks', 'train', 'P3_1.png'))
    elif case == 'mixed':
        _write(src, 'test', 'T7_0.jpg')
    elif case == 'shared':
        _write(src, 'test', 'P2_9.png')
    elif case == 'no_test':
        import shutil
        shutil.rmtree(osp.join(src, 'images', 'test'))
    with pytest.raises((ValueError, FileNotFoundError), match=match) as info:
        prepare_folder(src, str(tmp_path / 'view'), log=None)
    if case == 'no_mask':
        assert 'P3_1.png' in str(info.value)
    assert not osp.isfile(tmp_path / 'view' / LAYOUT_FILE)


def test_bad_settings(tmp_path):
    src = make_folder(str(tmp_path / 'src'))
    with pytest.raises(ValueError, match='folder.val'):
        prepare_folder(src, str(tmp_path / 'v'), val=1.5, log=None)
    with pytest.raises(ValueError, match='inside the data folder'):
        prepare_folder(src, osp.join(src, 'view'), log=None)
    with pytest.raises(FileNotFoundError, match='does not exist'):
        prepare_folder(str(tmp_path / 'nope'), str(tmp_path / 'v'), log=None)


def test_layout_record_is_json(tmp_path):
    src = make_folder(str(tmp_path / 'src'))
    prepare_folder(src, str(tmp_path / 'view'), log=None)
    with open(tmp_path / 'view' / LAYOUT_FILE) as f:
        rec = json.load(f)
    assert rec['source'] == osp.abspath(src) and rec['val'] == 0.15


def test_files_the_tools_do_not_read_are_counted_and_medical_ones_refused(tmp_path):
    # before: notes.txt and scan.dcm in images/train were dropped without a word
    src = make_folder(str(tmp_path / 'src'))
    (tmp_path / 'src' / 'images' / 'train' / 'notes.txt').write_text('x')
    (tmp_path / 'src' / 'images' / 'train' / 'P0_9.csv').write_text('x')
    lines = []
    prepare_folder(src, str(tmp_path / 'view'), log=lines.append)
    assert any('skipped 2 file(s) in ' in line and 'that the tools do not read: 1 .csv, 1 .txt'
               in line for line in lines), lines
    (tmp_path / 'src' / 'images' / 'train' / 'P9_0.nii.gz').write_bytes(b'x')
    with pytest.raises(ValueError, match=r'holds medical images that the tools do not read '
                       r'\(1 \.nii\.gz, e\.g\. .*P9_0\.nii\.gz\): convert them to 8-bit PNG '
                       r'first: python -m mmssl_us\.data\.converters\.medical_io'):
        prepare_folder(src, str(tmp_path / 'view2'), log=lines.append)
    os.remove(tmp_path / 'src' / 'images' / 'train' / 'P9_0.nii.gz')
    (tmp_path / 'src' / 'images' / 'test' / 'T5_0.dcm').write_bytes(b'x')
    with pytest.raises(ValueError, match=r'1 \.dcm.*no tool here reads DICOM'):
        prepare_folder(src, str(tmp_path / 'view3'), log=lines.append)


def test_the_conversion_command_named_in_the_hint_works(tmp_path):
    nib = pytest.importorskip('nibabel')
    from mmssl_us.data.converters.medical_io import main
    src = tmp_path / 'nii'
    src.mkdir()
    img = np.arange(12 * 10, dtype=np.int16).reshape(12, 10) * 30  # 0..3570: 12 bits
    mask = (img > 1800).astype(np.uint8)
    nib.save(nib.Nifti1Image(np.ascontiguousarray(img.T), np.eye(4)), str(src / 'P1_0.nii.gz'))
    nib.save(nib.Nifti1Image(np.ascontiguousarray(mask.T), np.eye(4)), str(tmp_path / 'm.nii'))
    assert main([str(src), str(tmp_path / 'png')]) == 0
    out = cv2.imread(str(tmp_path / 'png' / 'P1_0.png'), cv2.IMREAD_UNCHANGED)
    assert out.shape == (12, 10) and out.dtype == np.uint8 and out.max() == 255
    msrc = tmp_path / 'msrc'
    msrc.mkdir()
    os.replace(tmp_path / 'm.nii', msrc / 'P1_0.nii')
    assert main([str(msrc), str(tmp_path / 'mpng'), '--labels']) == 0
    np.testing.assert_array_equal(cv2.imread(str(tmp_path / 'mpng' / 'P1_0.png'), -1), mask)


def test_names_without_the_patient_separator_ask_for_the_rule(tmp_path):
    # before: S0001-000.png ... each frame its own patient; val carved sharing patients
    src = str(tmp_path / 'src')
    for p in range(6):
        for f in range(3):
            _write(src, 'train', f'S{p:04d}-{f:03d}.png')
    _write(src, 'test', 'S0100-000.png')
    with pytest.raises(ValueError, match=r'gives 19 patients to 19 images of .*19 names have '
                       r'no "_".*set study\.folder\.patient_pattern'):
        prepare_folder(src, str(tmp_path / 'view'), log=None)
    rec = prepare_folder(src, str(tmp_path / 'view'), patient_pattern=r'^(S\d+)-', log=None)
    assert rec['patients'] == dict(train=5, val=1, test=1)
    assert rec['patient_pattern'] == r'^(S\d+)-'
    names = sorted(os.listdir(tmp_path / 'view' / 'images' / 'val'))
    assert len(names) == 3 and len({n.split('_')[0] for n in names}) == 1  # one patient, 3 frames
    assert names[0].split('_', 1)[1].startswith('S')  # the user's name kept after the id
    with pytest.raises(ValueError, match=r'finds no patient in 1 of 19 image names, e\.g\. '
                       r'.*S0100-000\.png'):
        prepare_folder(src, str(tmp_path / 'v2'), patient_pattern=r'^(S00\d+)-', log=None)
    for bad, match in ((r'^S\d+-', 'has 0 groups'), ('(', 'is no regular expression')):
        with pytest.raises(ValueError, match=match):
            prepare_folder(src, str(tmp_path / 'v3'), patient_pattern=bad, log=None)


def test_messages_about_the_view_name_the_users_own_files(tmp_path, capsys):
    # before: errors named <work_dir>/data/masks/train/P0_0.png, a link the user never made,
    # and a .png where the user's mask is a .jpg
    from mmssl_us.cli import run_main
    from mmssl_us.data.layout import to_source
    src = str(tmp_path / 'src')
    for p in range(4):
        _write(src, 'train', f'P{p}_0.png', mask_name=f'P{p}_0.jpg')
    _write(src, 'test', 'T0_0.png', mask_name='T0_0.jpg')
    view = str(tmp_path / 'work' / 'data')
    prepare_folder(src, view, mask_suffix='.jpg', val=0.25, log=None)
    mask = osp.join(view, 'masks', 'test', 'T0_0.png')
    assert osp.isfile(mask)

    def refuse(argv):
        raise ValueError(f'mask {mask} is 3x4 (HxW) but its image '
                         f'{osp.join(view, "images", "test", "T0_0.png")} is 40x48')

    assert run_main(refuse, [], prog='t') == 2
    err = capsys.readouterr().err
    assert (f'mask {osp.join(src, "masks", "test", "T0_0.jpg")} is 3x4 (HxW) but its image '
            f'{osp.join(src, "images", "test", "T0_0.png")} is 40x48') in err
    assert view not in err
    assert to_source(f'x {tmp_path}/other/masks/a.png') == f'x {tmp_path}/other/masks/a.png'
