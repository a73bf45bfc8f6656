"""EchoNet-Dynamic conversion on a tiny release written in its real formats (AVI + CSVs)."""
import csv
import math
import os
import os.path as osp

import cv2
import numpy as np
import pytest

from mmssl_us.data.converters.echonet import convert_echonet, trace_to_mask

H = W = 112
N_FRAMES = 8


def _brightness(frame):
    return 20 + 25 * frame


def _write_video(path, n_frames=N_FRAMES):
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'MJPG'), 50, (W, H), True)
    assert writer.isOpened()
    for k in range(n_frames):
        writer.write(np.full((H, W, 3), _brightness(k), np.uint8))
    writer.release()


def _rect_tracing(x0, x1, y0, y1, n=5):
    """Long axis (vertical) then horizontal chords from x0 to x1 at rows y0..y1."""
    rows = [((x0 + x1) / 2, y0, (x0 + x1) / 2, y1)]
    rows += [(x0, y, x1, y) for y in np.linspace(y0, y1, n)]
    return rows


def _disc_tracing(cx, cy, r, n=41):
    rows = [(cx, cy - r, cx, cy + r)]
    for t in np.linspace(-math.pi / 2, math.pi / 2, n):
        y, half = cy + r * math.sin(t), r * math.cos(t)
        rows.append((cx - half, y, cx + half, y))
    return rows


def test_rectangle_filled_exactly():
    mask = trace_to_mask(np.asarray(_rect_tracing(10, 30, 20, 60), float), H, W)
    # cv2 fills the polygon with its boundary: columns 10..30, rows 20..60
    assert mask.sum() == 21 * 41
    assert mask[20:61, 10:31].all()


def test_disc_area_close_to_closed_form():
    r = 30.0
    mask = trace_to_mask(np.asarray(_disc_tracing(56, 56, r), float), H, W)
    # inscribed 80-gon area (chords) <= pixel count <= area of the disc grown by one pixel
    assert math.pi * r * r * 0.97 < mask.sum() < math.pi * (r + 1) ** 2


def test_too_few_rows_refused():
    with pytest.raises(ValueError, match='at least 2 chords'):
        trace_to_mask(np.zeros((2, 4)), H, W)


@pytest.fixture
def release(tmp_path):
    src = tmp_path / 'EchoNet-Dynamic'
    os.makedirs(src / 'Videos')
    videos = {'0XAAA': 'TRAIN', '0XBBB': 'VAL', '0XCCC': 'TEST', '0XDDD': 'TRAIN'}
    with open(src / 'FileList.csv', 'w', newline='') as f:
        w = csv.writer(f)
        w.writerow(['FileName', 'EF', 'ESV', 'EDV', 'FrameHeight', 'FrameWidth', 'FPS',
                    'NumberOfFrames', 'Split'])
        for name, split in videos.items():
            w.writerow([name, 55.0, 30.0, 70.0, H, W, 50, N_FRAMES, split])
            _write_video(str(src / 'Videos' / f'{name}.avi'))
    # AAA: small (ES) traced first at frame 2, large (ED) at frame 6 -> order must not matter
    tracings = {('0XAAA.avi', 2): _rect_tracing(40, 60, 40, 60),
                ('0XAAA.avi', 6): _rect_tracing(20, 80, 20, 90),
                ('0XBBB.avi', 1): _rect_tracing(10, 90, 10, 90),
                ('0XBBB.avi', 4): _rect_tracing(30, 50, 30, 50),
                ('0XCCC.avi', 0): _rect_tracing(10, 90, 10, 90),
                ('0XCCC.avi', 7): _rect_tracing(30, 50, 30, 50),
                ('0XDDD.avi', 3): _rect_tracing(30, 50, 30, 50)}  # one frame only: skipped
    with open(src / 'VolumeTracings.csv', 'w', newline='') as f:
        w = csv.writer(f)
        w.writerow(['FileName', 'X1', 'Y1', 'X2', 'Y2', 'Frame'])
        for (name, frame), rows in tracings.items():
            for row in rows:
                w.writerow([name, *row, frame])
    return str(src)


def test_convert_release(release, tmp_path):
    out = str(tmp_path / 'echonet')
    summary = convert_echonet(release, out)
    assert summary['written'] == {'train': 2, 'val': 2, 'test': 2}
    assert summary['skipped'] == {'1 traced frames instead of 2': ['0XDDD']}
    for split, video, ed_frame, es_frame, ed_area in (('train', '0XAAA', 6, 2, 61 * 71),
                                                      ('val', '0XBBB', 1, 4, 81 * 81),
                                                      ('test', '0XCCC', 0, 7, 81 * 81)):
        for phase, frame in (('ED', ed_frame), ('ES', es_frame)):
            img = cv2.imread(osp.join(out, 'images', split, f'{video}_{phase}.png'),
                             cv2.IMREAD_UNCHANGED)
            mask = cv2.imread(osp.join(out, 'masks', split, f'{video}_{phase}.png'),
                              cv2.IMREAD_UNCHANGED)
            assert img.shape == mask.shape == (H, W)
            assert abs(float(img.mean()) - _brightness(frame)) < 4  # the right frame (MJPG)
            assert set(np.unique(mask)) <= {0, 1}
        ed = cv2.imread(osp.join(out, 'masks', split, f'{video}_ED.png'), cv2.IMREAD_UNCHANGED)
        assert int(ed.sum()) == ed_area


def test_frame_beyond_video_named(release):
    with open(osp.join(release, 'VolumeTracings.csv'), 'a', newline='') as f:
        w = csv.writer(f)
        for row in _rect_tracing(30, 50, 30, 50):
            w.writerow(['0XDDD.avi', *row, 40])
    with pytest.raises(ValueError, match=r'0XDDD.avi has 8 frames; traced frame\(s\) \[40\]'):
        convert_echonet(release, release + '_out')


def test_missing_video_named(release):
    os.remove(osp.join(release, 'Videos', '0XBBB.avi'))
    with pytest.raises(FileNotFoundError, match='0XBBB.avi'):
        convert_echonet(release, release + '_out')


def test_unknown_split_named(release):
    path = osp.join(release, 'FileList.csv')
    text = open(path).read().replace('VAL', 'HOLDOUT')
    open(path, 'w').write(text)
    with pytest.raises(ValueError, match="unknown Split 'HOLDOUT' for 0XBBB"):
        convert_echonet(release, release + '_out')
