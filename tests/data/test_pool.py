"""build_pool: the training split and extra folders, never val/test, idempotent."""
import os

import cv2
import numpy as np
import pytest

from mmssl_us.data.pool import build_pool


def _img(path, value):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    cv2.imwrite(str(path), np.full((8, 8), value, np.uint8))


def test_pool_from_train_and_an_extra_folder(tmp_path):
    root = tmp_path / 'data'
    for split, n in (('train', 3), ('val', 2), ('test', 2)):
        for i in range(n):
            _img(root / 'images' / split / f'{split}{i}_0.png', i)
    _img(tmp_path / 'hip' / 'standard ultrasound' / 'a.png', 7)
    _img(tmp_path / 'hip' / 'sub' / 'a.png', 8)  # same name, other folder: both kept
    counts = build_pool(str(root), extra=[str(tmp_path / 'hip')])
    assert counts == {'train': 3, str(tmp_path / 'hip'): 2}
    files = sorted(str(p.relative_to(root / 'unlabelled')) for p in
                   (root / 'unlabelled').rglob('*.png'))
    assert files == ['extra_hip/standard-ultrasound__a.png', 'extra_hip/sub__a.png',
                     'train/train0_0.png', 'train/train1_0.png', 'train/train2_0.png']
    assert not any('val' in f or 'test' in f for f in files)
    stamp = {f: os.stat(root / 'unlabelled' / f).st_mtime_ns for f in files}
    assert build_pool(str(root), extra=[str(tmp_path / 'hip')]) == counts  # again: no change
    assert stamp == {f: os.stat(root / 'unlabelled' / f).st_mtime_ns for f in files}


def test_pool_refuses_evaluation_splits_and_empty_sources(tmp_path):
    with pytest.raises(ValueError, match='never takes evaluation splits'):
        build_pool(str(tmp_path), splits=['train', 'test'])
    with pytest.raises(FileNotFoundError, match='not found'):
        build_pool(str(tmp_path), splits=['train'])
    (tmp_path / 'images' / 'train').mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match='holds no image'):
        build_pool(str(tmp_path))


def test_pool_names_and_their_patients(tmp_path):
    """What patient an extra file's pool name carries (docs of mmssl_us.data.pool), and the
    'none' override for an extra folder whose names only collide by accident."""
    from mmssl_us.data.exclusion import ExclusionIndex
    from mmssl_us.data.splits import patient_id

    def _img(path, seed):  # textured: flat images would all share one difference hash
        os.makedirs(os.path.dirname(path), exist_ok=True)
        noise = np.random.default_rng(seed).random((48, 48)).astype(np.float32)
        smooth = cv2.GaussianBlur(noise, (0, 0), 3)
        cv2.imwrite(str(path), cv2.normalize(smooth, None, 0, 255, cv2.NORM_MINMAX).astype(
            np.uint8))

    root = tmp_path / 'data'
    for split, stem, value in (('train', 'P1_0', 1), ('val', '001_HC', 2), ('test', 'P7_0', 3)):
        _img(root / 'images' / split / f'{stem}.png', value)
    _img(tmp_path / 'other' / 'P7' / 'frame_3.png', 10)   # a folder per patient: P7
    _img(tmp_path / 'other' / 'P9_clip.png', 11)          # named by patient: P9
    _img(tmp_path / 'other' / 'scans' / '001.png', 12)    # another dataset's numbering
    _img(tmp_path / 'hip' / '001.png', 13)                # ... directly in the folder
    build_pool(str(root), extra=[str(tmp_path / 'other'), str(tmp_path / 'hip')])
    pool = root / 'unlabelled'
    names = sorted(str(p.relative_to(pool)) for p in pool.rglob('*.png'))
    assert names == ['extra_hip/001.png', 'extra_other/P7__frame_3.png',
                     'extra_other/P9_clip.png', 'extra_other/scans__001.png', 'train/P1_0.png']
    assert [patient_id(n) for n in names] == ['001', 'P7', 'P9', 'scans', 'P1']
    index = ExclusionIndex.from_sources(['images/val', 'images/test'], root=str(root))
    why = {n: index.match(str(pool / n)) for n in names}
    assert why == {'extra_hip/001.png': 'patient',   # collides with HC18-like val id 001
                   'extra_other/P7__frame_3.png': 'patient', 'extra_other/P9_clip.png': None,
                   'extra_other/scans__001.png': None, 'train/P1_0.png': None}
    index = ExclusionIndex.from_sources(['images/val', 'images/test'], root=str(root),
                                        patient_rule='none')
    assert all(index.match(str(pool / n)) is None for n in names)
