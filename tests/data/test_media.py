"""Finding media, sampling video frames, decoding images and frames (OpenCV MJPG AVI)."""
import cv2
import numpy as np
import pytest

from mmssl_us.data.media import (count_video_frames, file_md5, read_image, read_video_frame,
                                 sample_frame_indices, scan_media)

from ._helpers import write_mjpg_avi

LEVELS = (10, 60, 110, 160, 210, 35, 85, 135, 185, 235)


def _flat_frames(levels=LEVELS, size=(48, 64)):
    return [np.full(size, v, np.uint8) for v in levels]


def test_scan_is_recursive_sorted_and_case_insensitive(tmp_path):
    for rel in ('b/z.PNG', 'a/deep/er/x.jpg', 'a/y.bmp', 'a/t.tif', 'v/clip.AVI', 'v/c2.mp4',
                'notes.txt', '.hidden.png', '.dir/skip.png'):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(b'x')
    images, videos = scan_media(str(tmp_path))
    rel = [p[len(str(tmp_path)) + 1:] for p in images]
    assert rel == ['a/t.tif', 'a/y.bmp', 'a/deep/er/x.jpg', 'b/z.PNG']
    assert [p[len(str(tmp_path)) + 1:] for p in videos] == ['v/c2.mp4', 'v/clip.AVI']


@pytest.mark.parametrize('n, step, per, expected', [
    (10, 3, None, [0, 3, 6, 9]),
    (10, 1, None, list(range(10))),
    (10, None, 4, [0, 3, 6, 9]),      # linspace(0, 9, 4)
    (10, None, 3, [0, 4, 9]),          # 4.5 rounds half to even
    (5, None, 8, [0, 1, 2, 3, 4]),     # shorter video: every frame
    (7, None, 1, [0]),
])
def test_frame_sampling(n, step, per, expected):
    assert sample_frame_indices(n, step, per) == expected


@pytest.mark.parametrize('step, per, match', [
    (None, None, 'exactly one'), (2, 3, 'exactly one'), (0, None, 'frame_step must be'),
    (None, -1, 'frames_per_video must be')])
def test_frame_sampling_errors(step, per, match):
    with pytest.raises(ValueError, match=match):
        sample_frame_indices(10, step, per)


def test_avi_frames_count_and_decode(tmp_path):
    path = str(tmp_path / 'clip.avi')
    write_mjpg_avi(path, _flat_frames())
    assert count_video_frames(path) == len(LEVELS)
    for i in (0, 3, 9, 4):  # seeking, also backwards in call order
        frame = read_video_frame(path, i)
        assert frame.shape == (48, 64, 3)
        assert abs(float(frame.mean()) - LEVELS[i]) < 3  # MJPG is lossy, flat frames nearly not
    with pytest.raises(ValueError, match=r'frame 10 of video .*clip\.avi'):
        read_video_frame(path, 10)


def test_read_errors_name_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match='nothere.png'):
        read_image(str(tmp_path / 'nothere.png'))
    bad = tmp_path / 'broken.png'
    bad.write_bytes(b'not a png at all')
    with pytest.raises(ValueError, match='broken.png'):
        read_image(str(bad))
    with pytest.raises(ValueError, match='broken.avi'):
        (tmp_path / 'broken.avi').write_bytes(b'nothing')
        count_video_frames(str(tmp_path / 'broken.avi'))


def test_md5_is_of_the_bytes(tmp_path):
    a, b = tmp_path / 'a.png', tmp_path / 'b.png'
    img = np.arange(256, dtype=np.uint8).reshape(16, 16)
    cv2.imwrite(str(a), img)
    b.write_bytes(a.read_bytes())
    assert file_md5(str(a)) == file_md5(str(b))
    import hashlib
    assert file_md5(str(a)) == hashlib.md5(a.read_bytes()).hexdigest()


def test_a_zero_byte_image_and_a_video_whose_frames_do_not_decode(tmp_path):
    """Issue 18: an empty file is named (not a cv2 assertion); a video whose header promises
    frames it cannot decode is found by decoding its first, middle and last frame."""
    from mmssl_us.data.media import check_video_decodes
    empty = tmp_path / 'e.png'
    empty.write_bytes(b'')
    with pytest.raises(ValueError, match=r'empty image file \(0 bytes\): .*e\.png'):
        read_image(str(empty))
    good = str(tmp_path / 'good.avi')
    write_mjpg_avi(good, _flat_frames())
    assert check_video_decodes(good) == len(LEVELS)
    cut = tmp_path / 'cut.avi'
    rng = np.random.default_rng(0)
    write_mjpg_avi(str(cut), [rng.integers(0, 255, (48, 64), dtype=np.uint8) for _ in range(10)])
    data = cut.read_bytes()
    cut.write_bytes(data[:len(data) // 2])
    assert count_video_frames(str(cut)) == 10  # the header still says 10
    with pytest.raises(ValueError, match=r'cut\.avi.*says it has 10 frames but frame 5 does '
                       'not decode'):
        check_video_decodes(str(cut))
