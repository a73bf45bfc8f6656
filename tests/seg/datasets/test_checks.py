"""Bad image/mask pairs stop with an error naming the file or value."""
import os
import os.path as osp

import cv2
import numpy as np
import pytest
from PIL import Image

from mmssl_us.seg.datasets.checks import check_pairs, clear_cache, mask_summary


def _write(path, array):
    os.makedirs(osp.dirname(path), exist_ok=True)
    assert cv2.imwrite(str(path), array)
    return str(path)


@pytest.fixture
def pair(tmp_path):
    img = _write(tmp_path / 'img' / 'a_0.png', np.zeros((20, 30), np.uint8))
    mask = _write(tmp_path / 'ann' / 'a_0.png', np.ones((20, 30), np.uint8))
    return img, mask


def test_good_pair_and_ignore_index(pair):
    img, mask = pair
    check_pairs([(img, mask)], allowed=[0, 1, 255], where='x')
    arr = np.ones((20, 30), np.uint8)
    arr[0, 0] = 255
    _write(mask, arr)
    check_pairs([(img, mask)], allowed=[0, 1, 255], where='x')


def test_size_mismatch_named(pair, tmp_path):
    img, _ = pair
    mask = _write(tmp_path / 'ann' / 'b.png', np.zeros((21, 30), np.uint8))
    with pytest.raises(ValueError, match=r'b\.png is 21x30.*20x30'):
        check_pairs([(img, mask)], allowed=[0, 1, 255], where='x')


def test_label_outside_classes_named(pair):
    img, mask = pair
    arr = np.zeros((20, 30), np.uint8)
    arr[3, 3] = 2
    _write(mask, arr)
    with pytest.raises(ValueError, match=r'a_0\.png has label values \[2\]'):
        check_pairs([(img, mask)], allowed=[0, 1, 255], where='x')


def test_missing_mask_named(pair, tmp_path):
    img, _ = pair
    with pytest.raises(FileNotFoundError, match=r'a_0\.png has no mask.*nope\.png'):
        check_pairs([(img, str(tmp_path / 'nope.png'))], allowed=[0, 1], where='x')


def test_unreadable_image_named(pair, tmp_path):
    _, mask = pair
    bad = tmp_path / 'img' / 'broken.png'
    bad.write_text('not an image')
    with pytest.raises(ValueError, match='unreadable image file .*broken.png'):
        check_pairs([(str(bad), mask)], allowed=[0, 1], where='x')


def test_rgb_mask_refused(pair):
    img, mask = pair
    _write(mask, np.zeros((20, 30, 3), np.uint8))
    with pytest.raises(ValueError, match='single-channel'):
        check_pairs([(img, mask)], allowed=[0, 1], where='x')


def test_empty_list_names_folder():
    with pytest.raises(ValueError, match='no images found in some/folder'):
        check_pairs([], allowed=[0, 1], where='some/folder')


def test_palette_mask_read_as_indices(tmp_path):
    # mmseg's LoadAnnotations (pillow) reads a palette PNG as indices; so must the check
    arr = np.zeros((10, 10), np.uint8)
    arr[2:5, 2:5] = 1
    im = Image.fromarray(arr, mode='P')
    im.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    path = str(tmp_path / 'p.png')
    im.save(path)
    assert mask_summary(path) == (10, 10, (0, 1))


def test_cache_follows_file_changes(pair):
    clear_cache()
    img, mask = pair
    check_pairs([(img, mask)], allowed=[0, 1], where='x')
    arr = np.full((20, 30), 7, np.uint8)
    _write(mask, arr)
    st = os.stat(mask)
    os.utime(mask, ns=(st.st_atime_ns, st.st_mtime_ns + 10 ** 9))  # a new modification time
    with pytest.raises(ValueError, match=r'\[7\]'):
        check_pairs([(img, mask)], allowed=[0, 1], where='x')


def test_binary_masks_saved_as_0_255_are_refused(pair):
    """Issue 10, case 1: 0/255 masks made the foreground the ignore index (mIoU 100)."""
    img, mask = pair
    arr = np.zeros((20, 30), np.uint8)
    arr[5:10, 5:10] = 255
    _write(mask, arr)
    with pytest.raises(ValueError, match=r'a_0\.png holds only the values 0 and 255.*'
                                         r'Save the masks as 0/1'):
        check_pairs([(img, mask)], allowed=[0, 1, 255], where='masks/test')
    # with three classes 255 is only ever the ignore index: left alone
    check_pairs([(img, mask)], allowed=[0, 1, 2, 255], where='x')


def test_a_patient_or_file_in_two_splits_is_refused(tmp_path):
    """Issue 10, case 4: a test image (or a test patient) also in the train split."""
    from mmssl_us.seg.datasets.checks import check_split_overlap

    def patient(p):
        return osp.basename(p).split('_')[0]

    root = tmp_path / 'images'
    _write(root / 'train' / 'p1_0.png', np.zeros((4, 4), np.uint8))
    _write(root / 'test' / 'p2_0.png', np.full((4, 4), 9, np.uint8))
    check_split_overlap(str(root / 'train'), patient, '.png')  # clean
    _write(root / 'test' / 'p1_3.png', np.full((4, 4), 7, np.uint8))  # p1's other frame
    with pytest.raises(ValueError, match=r"train and test .*share 1 patient.*\['p1'\]"):
        check_split_overlap(str(root / 'train'), patient, '.png')
    os.remove(root / 'test' / 'p1_3.png')
    _write(root / 'val' / 'p9_0.png', np.zeros((4, 4), np.uint8))  # a renamed copy of p1_0
    with pytest.raises(ValueError, match=r'p9_0\.png \(val\) is byte-identical to .*p1_0\.png'):
        check_split_overlap(str(root / 'train'), patient, '.png')


def test_a_truncated_image_is_found_when_decoding(pair):
    """Issue 10: a truncated PNG in val was found only after training."""
    img, mask = pair
    arr = np.random.default_rng(0).integers(0, 255, (20, 30)).astype(np.uint8)
    _write(img, arr)
    data = open(img, 'rb').read()
    with open(img, 'wb') as f:
        f.write(data[:len(data) // 2])
    check_pairs([(img, mask)], allowed=[0, 1, 255], where='x')  # the header alone is fine
    with pytest.raises(ValueError, match=r'unreadable image file .*a_0\.png'):
        check_pairs([(img, mask)], allowed=[0, 1, 255], where='x', decode_images=True)


def test_a_sixteen_bit_image_is_refused_for_fine_tuning(pair):
    """Issue 10, case 3 (fine-tuning side): 12/16-bit frames were divided by 256."""
    img, mask = pair
    _write(img, np.full((20, 30), 4000, np.uint16))
    with pytest.raises(ValueError, match=r'a_0\.png has I;16.* pixels.*does not say how many '
                                         r'of its bits.*full range'):
        check_pairs([(img, mask)], allowed=[0, 1, 255], where='x')
