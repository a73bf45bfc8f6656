"""The data index (issue 19): md5, difference hash and the full-decode check of each image,
computed once per file version and shared by the leakage report and the pool exclusion."""
import os
import os.path as osp

import cv2
import numpy as np
import pytest

from mmssl_us.data import index as data_index
from mmssl_us.data.media import dhash, file_md5, read_image


def _png(path, value, size=(20, 24)):
    os.makedirs(osp.dirname(path), exist_ok=True)
    rng = np.random.default_rng(value)
    cv2.imwrite(str(path), rng.integers(0, 255, size, dtype=np.uint8))
    old = os.stat(path).st_mtime_ns - 10 * data_index.RACY_NS  # not "just written"
    os.utime(path, ns=(old, old))
    return str(path)


def test_values_are_the_media_functions_and_persist(tmp_path):
    img = _png(tmp_path / 'a.png', 1)
    path = str(tmp_path / 'index.json')
    first = data_index.FileIndex(path)
    assert first.md5(img) == file_md5(img)
    np.testing.assert_array_equal(first.dhash(img), dhash(read_image(img)))
    first.check_decodes(img)
    assert first.reads == 3
    first.save()
    again = data_index.FileIndex(path)
    again.md5(img), again.dhash(img), again.check_decodes(img)
    assert again.reads == 0  # all three from the file


def test_a_rewritten_file_is_read_again(tmp_path):
    img = _png(tmp_path / 'a.png', 1)
    index = data_index.FileIndex(None)
    before = index.md5(img)
    _png(tmp_path / 'a.png', 2)  # same size, other pixels, other time
    assert index.md5(img) != before and index.md5(img) == file_md5(img)


def test_a_file_written_just_now_is_never_kept(tmp_path):
    img = str(tmp_path / 'fresh.png')
    cv2.imwrite(img, np.zeros((8, 8), np.uint8))
    index = data_index.FileIndex(None)
    index.md5(img)
    cv2.imwrite(img, np.full((8, 8), 255, np.uint8))  # same size, perhaps the same mtime
    assert index.md5(img) == file_md5(img)
    assert index.paths() == []


def test_a_damaged_index_is_rebuilt_and_a_truncated_image_named(tmp_path):
    path = tmp_path / 'index.json'
    path.write_text('{"format": 2, "files": ')
    index = data_index.FileIndex(str(path))
    img = _png(tmp_path / 'a.png', 3)
    assert index.md5(img) == file_md5(img)
    data = open(img, 'rb').read()
    bad = str(tmp_path / 'cut.png')
    with open(bad, 'wb') as f:
        f.write(data[:len(data) // 2])
    with pytest.raises(ValueError, match=r'corrupt image in the pool: .*cut\.png'):
        index.check_decodes(bad, 'image in the pool')


def test_leakage_and_pool_exclusion_decode_each_pool_image_once(tmp_path, monkeypatch):
    from mmssl_us.data.exclusion import ExclusionIndex
    from mmssl_us.data.leakage import find_leakage
    root = tmp_path / 'data'
    for split, names in (('train', ['P1_0', 'P2_0']), ('test', ['T1_0'])):
        for k, name in enumerate(names):
            _png(root / 'images' / split / f'{name}.png', hash(name) % 1000)
    pool = [_png(root / 'unlabelled' / f'U{k}_0.png', 100 + k) for k in range(4)]
    monkeypatch.setenv('MMSSL_US_CACHE_DIR', str(tmp_path / 'cache'))
    decoded = []
    real = data_index.read_image
    monkeypatch.setattr(data_index, 'read_image', lambda p: decoded.append(p) or real(p))
    find_leakage(str(root), splits=('train', 'test'))
    excluded = ExclusionIndex.from_sources(['images/test'], str(root))
    assert [excluded.match(p) for p in pool] == [None] * 4
    assert sorted(decoded) == sorted(set(decoded))  # no image decoded twice
    assert set(pool) <= set(decoded)
    # a later process (a new index from the saved file) decodes none of them
    assert osp.isfile(tmp_path / 'cache' / 'file_index.json')
    decoded.clear()
    later = data_index.FileIndex()
    for p in pool:
        later.dhash(p)
    assert decoded == []


def test_the_index_can_stay_in_memory(monkeypatch):
    monkeypatch.setenv('MMSSL_US_CACHE_DIR', 'off')
    assert data_index.index_path() is None and data_index.FileIndex().path is None
