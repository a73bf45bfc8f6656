"""The ultrasound datasets: layout, patient ids, fractions, errors before training."""
import csv
import os
import os.path as osp

import cv2
import pytest
from mmseg.registry import DATASETS

import mmssl_us.seg  # noqa: F401
from mmssl_us.seg.datasets import (CAMUSDataset, EchoNetDynamicDataset, HC18Dataset,
                                   KneeRecessDataset, UltrasoundFolderDataset)

from .._helpers import write_seg_tree


def _knee(root, split='train', **kwargs):
    return KneeRecessDataset(data_root=root, data_prefix=dict(
        img_path=f'images/{split}', seg_map_path=f'masks/{split}'), **kwargs)


@pytest.mark.parametrize('name', ['KneeRecessDataset', 'EchoNetDynamicDataset', 'CAMUSDataset',
                                  'HC18Dataset', 'UltrasoundFolderDataset'])
def test_registered_under_own_name(name):
    assert DATASETS.get(name).__module__.startswith('mmssl_us.seg.datasets')


def test_knee_lists_pairs_with_patients(knee_root):
    ds = _knee(knee_root)
    assert len(ds) == 12
    info = ds.get_data_info(0)
    assert info['seg_map_path'].endswith(osp.join('masks', 'train', 'p00_000.png'))
    assert info['patient_id'] == 'p00'
    assert ds.metainfo['classes'] == ('background', 'recess')
    assert ds.fraction_record['n_patients'] == 6


@pytest.mark.slow
def test_fraction_selects_whole_patients(knee_root):
    ds = _knee(knee_root, label_fraction=0.5, fraction_seed=3)
    pids = [ds.get_data_info(i)['patient_id'] for i in range(len(ds))]
    assert len(set(pids)) == 3 and len(pids) == 6  # 3 of 6 patients, both frames each
    again = _knee(knee_root, label_fraction=0.5, fraction_seed=3)
    assert [again.get_data_info(i)['img_path'] for i in range(len(again))] == \
        ds.fraction_record['files']
    small = _knee(knee_root, label_fraction=1 / 6, fraction_seed=3)
    assert set(small.fraction_record['files']) < set(ds.fraction_record['files'])


def test_fraction_refused_on_evaluation_split(knee_root):
    with pytest.raises(ValueError, match='only ever apply to the train split'):
        _knee(knee_root, split='test', label_fraction=0.5, test_mode=True)
    assert len(_knee(knee_root, split='test', test_mode=True)) == 4


def test_missing_root_says_how_to_generate(tmp_path):
    with pytest.raises(FileNotFoundError, match='tools/generate_synthetic.py --out data/knee'):
        _knee(str(tmp_path / 'absent'))


def test_missing_split_folder_named(knee_root):
    with pytest.raises(FileNotFoundError, match='images/extra'):
        _knee(knee_root, split='extra')


def test_empty_folder_stops(tmp_path):
    for sub in ('images/train', 'masks/train'):
        os.makedirs(tmp_path / sub)
    with pytest.raises(ValueError, match='no \\*.png images'):
        _knee(str(tmp_path))


def test_bad_mask_value_stops_at_build(knee_root):
    path = osp.join(knee_root, 'masks', 'train', 'p02_001.png')
    mask = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    mask[0, 0] = 3
    cv2.imwrite(path, mask)
    with pytest.raises(ValueError, match='p02_001.png has label values \\[3\\]'):
        _knee(knee_root)


def test_image_without_mask_stops(knee_root):
    os.remove(osp.join(knee_root, 'masks', 'train', 'p04_000.png'))
    with pytest.raises(FileNotFoundError, match='p04_000.png has no mask'):
        _knee(knee_root)


def test_reduce_zero_label_allows_one_more_raw_value(tmp_path):
    root = str(tmp_path)
    write_seg_tree(root, {'train': ['a']}, n_classes=3, frames=1)  # raw labels 0, 1, 2
    folder = dict(data_root=root, data_prefix=dict(img_path='images/train',
                                                   seg_map_path='masks/train'))
    with pytest.raises(ValueError, match='label values \\[2\\]'):
        UltrasoundFolderDataset(metainfo=dict(classes=('x', 'y')), **folder)
    ds = UltrasoundFolderDataset(metainfo=dict(classes=('x', 'y')), reduce_zero_label=True,
                                 **folder)
    assert len(ds) == 1


def test_folder_dataset_needs_classes(knee_root):
    with pytest.raises(ValueError, match='metainfo=dict\\(classes'):
        UltrasoundFolderDataset(data_root=knee_root)


@pytest.mark.parametrize('cls,path,pid', [
    (KneeRecessDataset, 'x/P12_0003.png', 'P12'),
    (HC18Dataset, 'x/010_HC.png', '010'),
    (HC18Dataset, 'x/010_2HC.png', '010'),
    (EchoNetDynamicDataset, 'x/0X1A2B3C_ED.png', '0X1A2B3C'),
    (EchoNetDynamicDataset, 'x/0X1A2B3C_ES.png', '0X1A2B3C'),
    (CAMUSDataset, 'x/patient0042_4CH_ES.png', 'patient0042'),
])
def test_patient_ids(cls, path, pid):
    assert cls.patient_of(path) == pid


@pytest.mark.parametrize('cls,path', [(EchoNetDynamicDataset, 'x/video.png'),
                                      (CAMUSDataset, 'x/p1_2CH_ED.png'),
                                      (KneeRecessDataset, 'x/_001.png')])
def test_bad_names_refused(cls, path):
    with pytest.raises(ValueError, match=osp.basename(path)):
        cls.patient_of(path)


def _hc18_tree(root, rows):
    write_seg_tree(root, {'train': ['010', '011']}, frames=1, name_fmt='{patient}_HC')
    with open(osp.join(root, 'pixel_size.csv'), 'w', newline='') as f:
        w = csv.writer(f)
        w.writerow(['filename', 'pixel size(mm)', 'head circumference (mm)', 'split'])
        w.writerows(rows)


def test_hc18_pixel_sizes(tmp_path):
    root = str(tmp_path)
    _hc18_tree(root, [['010_HC.png', 0.1, 150.0, 'train'], ['011_HC.png', 0.25, 90.0, 'train']])
    ds = HC18Dataset(data_root=root, data_prefix=dict(img_path='images/train',
                                                      seg_map_path='masks/train'))
    sizes = {osp.basename(ds.get_data_info(i)['img_path']): ds.get_data_info(i)['pixel_size_mm']
             for i in range(len(ds))}
    assert sizes == {'010_HC.png': 0.1, '011_HC.png': 0.25}


@pytest.mark.parametrize('rows,match', [
    ([['010_HC.png', 0.1, 1, 'train']], 'no pixel size for .*011_HC.png'),
    ([['010_HC.png', 0.1, 1, 'train'], ['011_HC.png', -2, 1, 'train']], "bad pixel size '-2'"),
])
def test_hc18_bad_csv_named(tmp_path, rows, match):
    root = str(tmp_path)
    _hc18_tree(root, rows)
    with pytest.raises(ValueError, match=match):
        HC18Dataset(data_root=root, data_prefix=dict(img_path='images/train',
                                                     seg_map_path='masks/train'))


def _blank_masks(root, split):
    folder = osp.join(root, 'masks', split)
    for name in os.listdir(folder):
        cv2.imwrite(osp.join(folder, name), cv2.imread(osp.join(folder, name), 0) * 0)


def test_an_evaluation_split_without_foreground_stops_at_build(knee_root):
    # before: the test masks held no recess pixel and the results read mIoU 100 / mDice 100
    _blank_masks(knee_root, 'test')
    with pytest.raises(ValueError, match=r"class 'recess' occurs in none of the 4 masks of "
                       r".*masks/test \(masks per class: background in 4, recess in 0\)"):
        _knee(knee_root, 'test', test_mode=True)


def _three_class_tree(root):
    write_seg_tree(root, {'train': ['p0', 'p1', 'p2'], 'test': ['t0']}, n_classes=2)
    return dict(metainfo=dict(classes=('background', 'nerve', 'vessel')))


def test_a_config_class_in_no_mask_stops_naming_split_and_counts(tmp_path):
    # before: 'vessel' (no pixel in any split) got IoU NaN, quietly dropped from the mean
    root = str(tmp_path / 'd')
    kw = _three_class_tree(root)
    with pytest.raises(ValueError, match=r"class 'vessel' occurs in none of the 6 masks of "
                       r".*masks/train \(masks per class: background in 6, nerve in 6, "
                       r"vessel in 0\).*allow_absent_classes=\('vessel',\)"):
        UltrasoundFolderDataset(data_root=root, data_prefix=dict(
            img_path='images/train', seg_map_path='masks/train'), **kw)


def test_allowed_absent_class_is_reported_with_counts(tmp_path):
    root = str(tmp_path / 'd')
    kw = _three_class_tree(root)
    ds = UltrasoundFolderDataset(data_root=root, data_prefix=dict(
        img_path='images/test', seg_map_path='masks/test'), test_mode=True,
        allow_absent_classes=('vessel',), **kw)
    assert ds.absent_classes == ['vessel']
    assert ds.class_counts['nerve']['images'] == 2 and ds.class_counts['vessel']['pixels'] == 0
    assert ds.class_counts['background']['pixels'] > 0
    with pytest.raises(ValueError, match=r"'vesel', which is not one of .*did you mean "
                                         r"'vessel'"):
        UltrasoundFolderDataset(data_root=root, data_prefix=dict(
            img_path='images/test', seg_map_path='masks/test'), test_mode=True,
            allow_absent_classes=('vesel',), **kw)


@pytest.mark.slow
def test_classes_are_counted_over_the_whole_split_not_the_fraction(knee_root):
    # only p00's masks show the recess: a fraction without p00 still builds (the split has it)
    folder = osp.join(knee_root, 'masks', 'train')
    for name in os.listdir(folder):
        if not name.startswith('p00'):
            cv2.imwrite(osp.join(folder, name), cv2.imread(osp.join(folder, name), 0) * 0)
    for seed in range(4):
        ds = _knee(knee_root, label_fraction=0.2, fraction_seed=seed)
        assert ds.class_counts['recess']['images'] == 2


def _exif_jpeg(path, array, orientation=6):
    from PIL import Image
    img = Image.fromarray(array)
    exif = img.getexif()
    exif[0x0112] = orientation  # 6: viewers turn it 90 degrees clockwise
    os.makedirs(osp.dirname(path), exist_ok=True)
    img.save(path, exif=exif.tobytes(), quality=95)


def _jpeg_tree(root, mask_shape):
    import numpy as np
    for split, pids in (('train', ('p0', 'p1')), ('test', ('t0',))):
        for k, pid in enumerate(pids):
            img = np.zeros((20, 30), np.uint8)
            img[:, :10] = 200
            img[k + (split == 'test') * 5, 20] = 90  # no two files alike
            _exif_jpeg(osp.join(root, 'images', split, f'{pid}_0.jpg'), img)
            mask = np.zeros(mask_shape, np.uint8)
            mask[:5, :5] = 1
            os.makedirs(osp.join(root, 'masks', split), exist_ok=True)
            cv2.imwrite(osp.join(root, 'masks', split, f'{pid}_0.png'), mask)


_LOAD = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations')]


def test_exif_orientation_is_ignored_by_every_reader(tmp_path):
    # before: mmcv turned the 20x30 JPEG to 30x20 on load while its mask stayed 20x30
    root = str(tmp_path / 'k')
    _jpeg_tree(root, (20, 30))
    ds = _knee(root, img_suffix='.jpg', pipeline=_LOAD)
    sample = ds[0]
    assert sample['img'].shape[:2] == (20, 30) == sample['gt_seg_map'].shape
    assert sample['img'][:, :10].mean() > 150  # the bright band stays on the left, as stored
    from mmssl_us.data.media import read_image
    assert read_image(ds.get_data_info(0)['img_path']).shape[:2] == (20, 30)


def test_a_mask_drawn_on_the_exif_turned_view_is_stopped_naming_both(tmp_path):
    root = str(tmp_path / 'k')
    _jpeg_tree(root, (30, 20))
    with pytest.raises(ValueError, match=r'mask .*p0_0\.png is 30x20 \(HxW\) but its image '
                       r'.*p0_0\.jpg is 20x30 as stored; the image carries EXIF orientation 6'):
        _knee(root, img_suffix='.jpg', pipeline=_LOAD)
