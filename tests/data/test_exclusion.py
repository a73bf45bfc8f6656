"""ExclusionIndex: stems from folders, files and txt lists; md5 catches renamed copies."""
from pathlib import Path

import cv2
import numpy as np
import pytest

from mmssl_us.data.exclusion import ExclusionIndex


def _img(path, seed):
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), np.random.default_rng(seed).integers(0, 256, (16, 16), np.uint8))
    return str(path)


def test_folder_stems_and_md5(tmp_path):
    test_img = _img(tmp_path / 'eval' / 'P01_0003.png', 1)
    _img(tmp_path / 'eval' / 'sub' / 'P02_0001.jpg', 2)
    (tmp_path / 'eval' / 'P09.avi').write_bytes(b'video')
    index = ExclusionIndex.from_sources(['eval'], root=str(tmp_path))
    assert index.stems == {'p01_0003', 'p02_0001', 'p09'}
    same_stem = _img(tmp_path / 'pool' / 'p01_0003.PNG', 5)  # other pixels, same stem
    renamed = tmp_path / 'pool' / 'copy_of_it.png'
    renamed.write_bytes(Path(test_img).read_bytes())
    other = _img(tmp_path / 'pool' / 'P03_0001.png', 3)
    assert index.match(same_stem) == 'stem'
    assert index.match(str(renamed)) == 'md5'
    assert index.match(other) is None
    assert index.match(str(tmp_path / 'pool' / 'P09.mp4'), is_video=True) == 'stem'


def test_txt_list_with_stems_paths_and_comments(tmp_path):
    listed = _img(tmp_path / 'lists' / 'imgs' / 'A_1.png', 7)
    (tmp_path / 'lists' / 'test.txt').write_text(
        '# evaluation split\n\nB_2\nimgs/A_1.png\n  C_3  \n', encoding='utf-8')
    index = ExclusionIndex.from_sources([str(tmp_path / 'lists' / 'test.txt')])
    assert index.stems == {'a_1', 'b_2', 'c_3'}
    copy = tmp_path / 'x.png'
    copy.write_bytes(Path(listed).read_bytes())
    assert index.match(str(copy)) == 'md5'


def test_errors_name_the_source(tmp_path):
    with pytest.raises(FileNotFoundError, match=r'exclusion source not found: .*images/test'):
        ExclusionIndex.from_sources(['images/test'], root=str(tmp_path))
    (tmp_path / 'l.txt').write_text('ok_stem\nmissing/file.png\n', encoding='utf-8')
    with pytest.raises(FileNotFoundError, match=r'l\.txt, line 2: .*missing/file\.png'):
        ExclusionIndex.from_sources([str(tmp_path / 'l.txt')])
    (tmp_path / 'n.csv').write_text('a', encoding='utf-8')
    with pytest.raises(ValueError, match=r'n\.csv is neither'):
        ExclusionIndex.from_sources([str(tmp_path / 'n.csv')])


def test_only_same_size_candidates_are_hashed(tmp_path, monkeypatch):
    _img(tmp_path / 'eval' / 'e.png', 1)
    index = ExclusionIndex.from_sources([str(tmp_path / 'eval')])
    big = tmp_path / 'big.png'
    cv2.imwrite(str(big), np.zeros((64, 64), np.uint8) + 3)
    assert big.stat().st_size != (tmp_path / 'eval' / 'e.png').stat().st_size
    from mmssl_us.data import exclusion
    calls = []
    monkeypatch.setattr(exclusion, 'file_md5', lambda p: calls.append(p) or 'x')
    assert index.match(str(big)) is None and calls == []
