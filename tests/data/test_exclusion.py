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
    from mmssl_us.data import index as data_index  # where the exclusion's md5s come from
    calls = []
    monkeypatch.setattr(data_index, 'file_md5', lambda p: calls.append(p) or 'x')
    assert index.match(str(big)) is None and calls == []


def _scan(seed, size=96):
    """Smooth random structure (different seeds: difference hashes far apart)."""
    noise = np.random.default_rng(seed).random((size, size)).astype(np.float32)
    img = cv2.GaussianBlur(noise, (0, 0), 5)
    return cv2.normalize(img, None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)


@pytest.fixture
def leaky(tmp_path):
    """Evaluation folder with test patient P07 and val patient V2; candidates: P07's other
    frame, videos named after P07, a resized JPEG copy of P07's test image, clean files."""
    from ._helpers import write_mjpg_avi
    (tmp_path / 'eval').mkdir()
    (tmp_path / 'pool').mkdir()
    test_img = _scan(1)
    cv2.imwrite(str(tmp_path / 'eval' / 'P07_0003.png'), test_img)
    cv2.imwrite(str(tmp_path / 'eval' / 'V2_0000.png'), _scan(2))
    pool = tmp_path / 'pool'
    cv2.imwrite(str(pool / 'p07_0005.png'), _scan(3))           # other frame (case differs)
    write_mjpg_avi(pool / 'P07.avi', [_scan(4)])
    write_mjpg_avi(pool / 'P07_clip2.avi', [_scan(5)])
    cv2.imwrite(str(pool / 'scan_0001.jpg'), cv2.resize(test_img, (48, 48)),
                [cv2.IMWRITE_JPEG_QUALITY, 70])
    for k in range(3):
        cv2.imwrite(str(pool / f'P1{k}_0000.png'), _scan(10 + k))
    write_mjpg_avi(pool / 'P10.avi', [_scan(20)])
    return tmp_path


def test_patient_other_frames_videos_and_resized_copies(leaky):
    index = ExclusionIndex.from_sources(['eval'], root=str(leaky))
    assert index.patients == {'p07', 'v2'}
    pool = leaky / 'pool'
    assert index.match(str(pool / 'p07_0005.png')) == 'patient'
    assert index.match(str(pool / 'P07.avi'), is_video=True) == 'patient'
    assert index.match(str(pool / 'P07_clip2.avi'), is_video=True) == 'patient'
    assert index.match(str(pool / 'scan_0001.jpg')) == 'content'
    # a clean pool loses nothing
    for name in ('P10_0000.png', 'P11_0000.png', 'P12_0000.png'):
        assert index.match(str(pool / name)) is None, name
    assert index.match(str(pool / 'P10.avi'), is_video=True) is None


def test_patient_rule_override(leaky):
    pool = leaky / 'pool'
    none = ExclusionIndex.from_sources(['eval'], root=str(leaky), patient_rule='none')
    assert none.match(str(pool / 'p07_0005.png')) is None
    assert none.match(str(pool / 'P07.avi'), is_video=True) is None
    assert none.match(str(pool / 'scan_0001.jpg')) == 'content'  # content still checked
    stem = ExclusionIndex.from_sources(['eval'], root=str(leaky), patient_rule='stem')
    assert stem.match(str(pool / 'P07.avi'), is_video=True) == 'patient'
    assert stem.match(str(pool / 'P07_clip2.avi'), is_video=True) is None
    assert stem.match(str(pool / 'p07_0005.png')) is None
    with pytest.raises(ValueError, match='patient_rule must be one of'):
        ExclusionIndex(patient_rule='first')
    with pytest.raises(ValueError, match='near_bits must be'):
        ExclusionIndex(near_bits=256)


def test_near_bits_threshold_is_used(leaky):
    strict = ExclusionIndex.from_sources(['eval'], root=str(leaky), near_bits=0)
    assert strict.match(str(leaky / 'pool' / 'scan_0001.jpg')) is None


def test_txt_stems_carry_their_patient(tmp_path):
    (tmp_path / 'test.txt').write_text('P03_0001\n', encoding='utf-8')
    index = ExclusionIndex.from_sources([str(tmp_path / 'test.txt')])
    assert index.patients == {'p03'}
    assert index.match(str(tmp_path / 'P03_0009.png')) == 'patient'  # not read: name only


def test_the_one_patient_id_rule():
    from mmssl_us.data.splits import patient_id
    assert patient_id('images/test/001_HC.png') == '001'
    assert patient_id('001_2HC.png') == '001'  # HC18: one subject, several images
    assert patient_id('a/b/P07.avi') == 'P07' and patient_id('P07_clip2.mp4') == 'P07'
    assert patient_id('P07_clip2.mp4', 'stem') == 'P07_clip2'
    assert patient_id('P07_clip2.mp4', 'none') is None
    assert patient_id('_x.png') is None  # no id: never matches anything
    assert patient_id('X9_1.png', lambda p: 'q' + p[-5]) == 'q1'
    with pytest.raises(ValueError, match='patient_rule must be one of'):
        patient_id('a_1.png', 'first')
