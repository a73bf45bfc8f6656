"""HC18 conversion: outline or filled annotations, subject split, pixel-size CSV."""
import csv
import os
import os.path as osp

import cv2
import numpy as np
import pytest

from mmssl_us.data.converters.hc18 import convert_hc18, fill_head_annotation

from .._helpers import HC18_DIR, hc18_available

SHAPE = (270, 400)


def _ellipse(center, axes, angle, thickness):
    img = np.zeros(SHAPE, np.uint8)
    cv2.ellipse(img, center, axes, angle, 0, 360, 255, thickness)
    return img


def _iou(a, b):
    a, b = a > 0, b > 0
    return (a & b).sum() / (a | b).sum()


@pytest.mark.parametrize('center,axes,angle', [((200, 135), (120, 90), 20),
                                               ((180, 140), (60, 45), 70)])
def test_outline_and_filled_agree(center, axes, angle):
    filled_ref = _ellipse(center, axes, angle, -1) > 0
    from_outline, how_o = fill_head_annotation(_ellipse(center, axes, angle, 1))
    from_filled, how_f = fill_head_annotation(_ellipse(center, axes, angle, -1))
    assert (how_o, how_f) == ('contour', 'filled')
    assert _iou(from_filled, filled_ref) == 1.0
    assert _iou(from_outline, filled_ref) > 0.99
    assert set(np.unique(from_outline)) == {0, 1}


def test_open_outline_at_border_refitted():
    # a head cut by the bottom edge: its outline is an open curve
    center, axes, angle = (200, 230), (110, 80), 0
    ref = _ellipse(center, axes, angle, -1) > 0
    mask, how = fill_head_annotation(_ellipse(center, axes, angle, 1))
    assert how == 'ellipse'
    assert _iou(mask, ref) > 0.97


def test_empty_annotation_named():
    with pytest.raises(ValueError, match='007_HC_Annotation.png is empty'):
        fill_head_annotation(np.zeros(SHAPE, np.uint8), '007_HC_Annotation.png')


def _release(root, outline=True):
    names = ['000_HC', '001_HC', '001_2HC', '002_HC', '003_HC', '004_HC', '005_HC', '006_HC',
             '007_HC', '008_HC']
    os.makedirs(osp.join(root, 'training_set'))
    rows = []
    for i, stem in enumerate(names):
        axes = (80 + 5 * i, 60 + 3 * i)
        image = np.random.default_rng(i).integers(0, 255, SHAPE).astype(np.uint8)
        cv2.imwrite(osp.join(root, 'training_set', stem + '.png'), image)
        cv2.imwrite(osp.join(root, 'training_set', stem + '_Annotation.png'),
                    _ellipse((200, 135), axes, 10 * i, 1 if outline else -1))
        rows.append([stem + '.png', 0.1 + 0.01 * i, 0])
    with open(osp.join(root, 'training_set_pixel_size_and_HC.csv'), 'w', newline='') as f:
        w = csv.writer(f)
        w.writerow(['filename', 'pixel size(mm)', 'head circumference (mm)'])
        w.writerows(rows)
    return names


@pytest.mark.parametrize('outline', [True, False])
def test_convert_release(tmp_path, outline):
    src, out = str(tmp_path / 'hc18'), str(tmp_path / 'out')
    names = _release(src, outline)
    summary = convert_hc18(src, out, seed=0, val=0.2, test=0.2)
    assert sum(summary['written'].values()) == len(names)
    assert summary['annotations'][('contour' if outline else 'filled')] == len(names)
    with open(osp.join(out, 'pixel_size.csv')) as f:
        table = {r['filename']: r for r in csv.DictReader(f)}
    assert set(table) == {n + '.png' for n in names}
    assert float(table['003_HC.png']['pixel size(mm)']) == pytest.approx(0.14)  # 5th row
    # one subject, one split: 001_HC and 001_2HC together
    assert table['001_HC.png']['split'] == table['001_2HC.png']['split']
    for name, row in table.items():
        mask = cv2.imread(osp.join(out, 'masks', row['split'], name), cv2.IMREAD_UNCHANGED)
        assert mask.shape == SHAPE and set(np.unique(mask)) == {0, 1}


def test_missing_annotation_named(tmp_path):
    src = str(tmp_path / 'hc18')
    _release(src)
    os.remove(osp.join(src, 'training_set', '004_HC_Annotation.png'))
    with pytest.raises(FileNotFoundError, match='004_HC_Annotation.png'):
        convert_hc18(src, str(tmp_path / 'out'))


def test_real_hc18_subset(tmp_path):
    """Real HC18 files (filled masks): converted masks give the CSV's head circumference."""
    if not hc18_available():
        pytest.skip(f'{HC18_DIR} not present')
    from mmssl_us.seg.metrics.ellipse import mask_circumference
    with open(osp.join(HC18_DIR, 'training_set_pixel_size_and_HC.csv')) as f:
        rows = list(csv.DictReader(f))[:12]
    sub_csv = str(tmp_path / 'subset.csv')
    with open(sub_csv, 'w', newline='') as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    out = str(tmp_path / 'out')
    summary = convert_hc18(HC18_DIR, out, csv_path=sub_csv)
    assert summary['annotations']['filled'] == 12
    with open(osp.join(out, 'pixel_size.csv')) as f:
        for row in csv.DictReader(f):
            mask = cv2.imread(osp.join(out, 'masks', row['split'], row['filename']),
                              cv2.IMREAD_UNCHANGED)
            hc = mask_circumference(mask, float(row['pixel size(mm)']))
            assert abs(hc - float(row['head circumference (mm)'])) < 2.0, row['filename']
    # the converted folder is what HC18Dataset reads, with each image's pixel size
    import mmssl_us.seg  # noqa: F401
    from mmssl_us.seg.datasets import HC18Dataset
    ds = HC18Dataset(data_root=out, data_prefix=dict(img_path='images/train',
                                                     seg_map_path='masks/train'))
    by_name = {r['filename']: float(r['pixel size(mm)']) for r in rows}
    assert len(ds) == summary['written']['train'] > 0
    for i in range(len(ds)):
        info = ds.get_data_info(i)
        assert info['pixel_size_mm'] == by_name[osp.basename(info['img_path'])]


def test_reconverting_with_another_seed_is_refused(tmp_path):
    """Issue 10, case 11: a re-run into the same --out with another --seed left the old files
    (5 of 8 images in two splits). Now the same settings are reused, others refused."""
    src, out = str(tmp_path / 'hc18'), str(tmp_path / 'out')
    _release(src, outline=False)
    first = convert_hc18(src, out, seed=0, val=0.2, test=0.2)
    assert sum(first['written'].values()) == 10
    again = convert_hc18(src, out, seed=0, val=0.2, test=0.2)
    assert 'reused' in again['written']
    before = sorted(os.listdir(osp.join(out, 'images', 'train')))
    with pytest.raises(ValueError, match=r'other settings \(seed: 0 -> 3\)'):
        convert_hc18(src, out, seed=3, val=0.2, test=0.2)
    assert sorted(os.listdir(osp.join(out, 'images', 'train'))) == before
    hand = tmp_path / 'hand'
    (hand / 'images' / 'train').mkdir(parents=True)
    (hand / 'images' / 'train' / 'x.png').write_bytes(b'x')
    with pytest.raises(ValueError, match='did not record'):
        convert_hc18(src, str(hand), seed=0)
