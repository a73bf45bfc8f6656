"""LoadUltrasoundFrame and RepeatGreyChannels: grey conversion, bit depth, video frames."""
import cv2
import numpy as np
import pytest

from mmssl_us.pretrain.datasets import LoadUltrasoundFrame, RepeatGreyChannels


def _load(path, channels=3, frame_index=None):
    return LoadUltrasoundFrame(channels)(dict(img_path=str(path), frame_index=frame_index))


def test_grey_png_to_one_and_three_channels(tmp_path):
    img = np.random.default_rng(0).integers(0, 256, (20, 30), dtype=np.uint8)
    cv2.imwrite(str(tmp_path / 'g.png'), img)
    one = _load(tmp_path / 'g.png', 1)
    np.testing.assert_array_equal(one['img'], img)
    assert one['img_shape'] == (20, 30) == one['ori_shape']
    three = _load(tmp_path / 'g.png', 3)['img']
    assert three.shape == (20, 30, 3)
    for c in range(3):
        np.testing.assert_array_equal(three[:, :, c], img)


def test_colour_uses_bt601_luma(tmp_path):
    bgr = np.zeros((4, 4, 3), np.uint8)
    bgr[...] = (200, 100, 50)  # B, G, R
    cv2.imwrite(str(tmp_path / 'c.png'), bgr)
    expected = round(0.114 * 200 + 0.587 * 100 + 0.299 * 50)  # 96
    assert np.all(_load(tmp_path / 'c.png', 1)['img'] == expected)
    bgra = np.dstack([bgr, np.full((4, 4), 7, np.uint8)])
    cv2.imwrite(str(tmp_path / 'a.png'), bgra)
    assert np.all(_load(tmp_path / 'a.png', 1)['img'] == expected)  # alpha ignored


def test_sixteen_bit_is_scaled_to_eight(tmp_path):
    img = np.array([[0, 257 * 100, 65535, 128]], np.uint16)
    cv2.imwrite(str(tmp_path / 'w.png'), img)
    np.testing.assert_array_equal(_load(tmp_path / 'w.png', 1)['img'], [[0, 100, 255, 0]])


def _load_at(path, bit_depth):
    return LoadUltrasoundFrame(1, bit_depth=bit_depth)(dict(img_path=str(path)))


def test_twelve_bit_in_sixteen_is_read_at_full_range(tmp_path):
    """Issue 10: 12-bit frames were divided by 256 into near-black 8-bit frames. Issue 19: a
    16-bit PNG's depth is its container's; the user declares 12 bits to get the full range."""
    img = np.array([[0, 4095, 2048, 1000]], np.uint16)  # a 12-bit export
    cv2.imwrite(str(tmp_path / 'w12.png'), img)
    np.testing.assert_array_equal(_load_at(tmp_path / 'w12.png', 12)['img'],
                                  np.round(img * (255 / 4095)).astype(np.uint8))
    assert _load_at(tmp_path / 'w12.png', 12)['img'].max() == 255
    assert repr(LoadUltrasoundFrame(1, bit_depth=12)) == \
        'LoadUltrasoundFrame(channels=1, bit_depth=12)'


def test_a_dim_sixteen_bit_image_is_not_stretched(tmp_path):
    """Issue 19: the depth was guessed from each image's maximum, so a dim frame (max 1000 of a
    16-bit container) was stretched to 0-255 as if it were 10-bit. It stays dim now."""
    img = np.array([[0, 1000, 500, 257]], np.uint16)
    cv2.imwrite(str(tmp_path / 'dim.png'), img)
    np.testing.assert_array_equal(_load(tmp_path / 'dim.png', 1)['img'], [[0, 4, 2, 1]])
    # a dim 12-bit frame, declared 12-bit, is scaled from 4095 too, not from its own maximum
    dim12 = np.array([[0, 1000, 800]], np.uint16)
    cv2.imwrite(str(tmp_path / 'dim12.png'), dim12)
    np.testing.assert_array_equal(_load_at(tmp_path / 'dim12.png', 12)['img'],
                                  [[0, 62, 50]])  # round(v * 255 / 4095), not 255 at 1000


def test_a_declared_bit_depth_the_file_exceeds_is_refused(tmp_path):
    cv2.imwrite(str(tmp_path / 'w.png'), np.array([[0, 5000]], np.uint16))
    with pytest.raises(ValueError, match=r'w\.png: a value 5000 exceeds the declared '
                                         r'bit_depth=12'):
        _load_at(tmp_path / 'w.png', 12)
    cv2.imwrite(str(tmp_path / 'e.png'), np.zeros((2, 2), np.uint8))
    with pytest.raises(ValueError, match=r'e\.png: bit_depth must be .* 1 to 8 .* got 12'):
        _load_at(tmp_path / 'e.png', 12)
    with pytest.raises(ValueError, match='bit_depth'):
        LoadUltrasoundFrame(1, bit_depth=17)


def test_pretraining_and_the_probe_read_by_one_rule():
    """One function: the pretraining loader and the dense probe both use media's rule."""
    from mmssl_us.data import media
    from mmssl_us.pretrain.datasets import loading
    from mmssl_us.pretrain.hooks import dense_probe
    assert loading.to_grey_uint8 is media.to_grey_uint8 is dense_probe.to_grey_uint8


def test_float_tiff_is_refused_naming_the_file(tmp_path):
    cv2.imwrite(str(tmp_path / 'f.tif'), np.ones((4, 4), np.float32))
    with pytest.raises(ValueError, match=r'f\.tif.*float32'):
        _load(tmp_path / 'f.tif')


def test_video_frame_by_index(tmp_path, media):
    frames = [np.full((32, 40), v, np.uint8) for v in (20, 120, 220)]
    media.avi(tmp_path / 'v.avi', frames)
    out = _load(tmp_path / 'v.avi', 1, frame_index=2)
    assert out['img'].shape == (32, 40) and abs(float(out['img'].mean()) - 220) < 3
    with pytest.raises(ValueError, match=r'frame 7 of video .*v\.avi'):
        _load(tmp_path / 'v.avi', 1, frame_index=7)


def test_arguments_and_repr():
    with pytest.raises(ValueError, match='channels must be 1 or 3, got 2'):
        LoadUltrasoundFrame(2)
    assert repr(LoadUltrasoundFrame(1)) == 'LoadUltrasoundFrame(channels=1)'
    with pytest.raises(ValueError, match='channels must be a positive int, got 0'):
        RepeatGreyChannels(0)
    assert repr(RepeatGreyChannels(3)) == 'RepeatGreyChannels(channels=3)'


def test_repeat_grey_channels():
    grey = np.arange(12, dtype=np.uint8).reshape(3, 4)
    out = RepeatGreyChannels(3)(dict(img=grey.copy()))['img']
    assert out.shape == (3, 4, 3) and all(np.array_equal(out[:, :, c], grey) for c in range(3))
    out1 = RepeatGreyChannels(3)(dict(img=grey[:, :, None].copy()))['img']
    np.testing.assert_array_equal(out1, out)
    same = np.zeros((3, 4, 3), np.uint8)
    assert RepeatGreyChannels(3)(dict(img=same))['img'] is same
    with pytest.raises(ValueError, match=r'grey HxW.*\(3, 4, 2\).*x\.png'):
        RepeatGreyChannels(3)(dict(img=np.zeros((3, 4, 2), np.uint8), img_path='x.png'))
