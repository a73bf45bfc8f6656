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
