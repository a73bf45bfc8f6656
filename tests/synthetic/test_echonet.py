"""The echo mode of the synthetic generator: EchoNet-Dynamic's layout, read unchanged by the
EchoNet converter and dataset; bad tracings, short videos and unknown splits stopped, named."""
import csv
import os.path as osp

import cv2
import numpy as np
import pytest

from mmssl_us.data.converters import convert_echonet
from mmssl_us.synthetic.cli import main
from mmssl_us.synthetic.echonet import disk_volume, write_echonet_dataset
from mmssl_us.synthetic.heart import (N_CHORDS, cardiac_phase, lv_tracing, render_frame,
                                      sample_heart)

SIZE = 64


@pytest.fixture(scope='module')
def release(tmp_path_factory):
    out = str(tmp_path_factory.mktemp('echonet'))
    write_echonet_dataset(out, n_videos=6, frames=14, split=(0.5, 0.25, 0.25), seed=3,
                          size=SIZE)
    return out


def _rows(path):
    with open(path, newline='', encoding='utf-8') as f:
        return list(csv.DictReader(f))


def test_layout_is_echonets(release):
    files = _rows(osp.join(release, 'FileList.csv'))
    assert len(files) == 6
    assert {r['Split'] for r in files} == {'TRAIN', 'VAL', 'TEST'}
    traces = _rows(osp.join(release, 'VolumeTracings.csv'))
    for r in files:
        cap = cv2.VideoCapture(osp.join(release, 'Videos', r['FileName'] + '.avi'))
        assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == int(r['NumberOfFrames']) == 14
        ok, frame = cap.read()
        cap.release()
        assert ok and frame.shape[:2] == (SIZE, SIZE)
        mine = [t for t in traces if t['FileName'] == r['FileName'] + '.avi']
        frames = sorted({int(t['Frame']) for t in mine})
        assert len(frames) == 2 and len(mine) == 2 * (1 + N_CHORDS)  # long axis + 20 chords
        assert float(r['EDV']) > float(r['ESV']) > 0
        assert 20 < float(r['EF']) < 80


def test_the_wall_moves_over_a_cycle():
    heart = sample_heart(11, (SIZE, SIZE), 0.0)
    c = [cardiac_phase(heart, f) for f in range(int(heart.period) + 1)]
    assert min(c) < 0.05 and max(c) > 0.95  # one cycle: end-diastole and end-systole
    vols = [disk_volume(lv_tracing(heart, x)) for x in (0.0, 0.5, 1.0)]
    assert vols[0] > vols[1] > vols[2]
    a, _ = render_frame(11, 0, (SIZE, SIZE))
    b, _ = render_frame(11, 0, (SIZE, SIZE))
    assert np.array_equal(a, b)  # seeded


def test_converter_and_dataset_read_it_unchanged(release, tmp_path):
    out = str(tmp_path / 'converted')
    summary = convert_echonet(release, out)
    assert summary['skipped'] == {}
    assert sum(summary['written'].values()) == 12  # ED and ES of 6 videos
    files = {r['FileName']: r for r in _rows(osp.join(release, 'FileList.csv'))}
    for name, r in files.items():
        split = r['Split'].lower()
        ed = cv2.imread(osp.join(out, 'masks', split, name + '_ED.png'), cv2.IMREAD_UNCHANGED)
        es = cv2.imread(osp.join(out, 'masks', split, name + '_ES.png'), cv2.IMREAD_UNCHANGED)
        img = cv2.imread(osp.join(out, 'images', split, name + '_ED.png'), cv2.IMREAD_GRAYSCALE)
        assert ed.sum() > es.sum() > 0
        # the traced cavity is blood: darker than the ring of myocardium around it
        ring = cv2.dilate(ed, np.ones((5, 5), np.uint8)) - ed
        assert img[ed == 1].mean() + 40 < img[ring == 1].mean()
    import mmssl_us.seg  # noqa: F401
    from mmssl_us.seg.datasets import EchoNetDynamicDataset
    ds = EchoNetDynamicDataset(data_root=out, data_prefix=dict(
        img_path='images/train', seg_map_path='masks/train'), pipeline=[])
    assert len(ds) == 2 * sum(r['Split'] == 'TRAIN' for r in files.values())


def _copy(release, tmp_path):
    import shutil
    dst = str(tmp_path / 'copy')
    shutil.copytree(release, dst)
    return dst


def test_tracing_of_a_frame_the_video_lacks_named(release, tmp_path):
    src = _copy(release, tmp_path)
    name = _rows(osp.join(src, 'FileList.csv'))[0]['FileName']
    path = osp.join(src, 'VolumeTracings.csv')
    rows = _rows(path)
    mine = [r for r in rows if r['FileName'] == name + '.avi']
    frame = int(mine[-1]['Frame'])
    with open(path, 'w', newline='', encoding='utf-8') as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        for r in rows:  # the second traced frame moved beyond the clip's 14 frames
            writer.writerow(dict(r, Frame=40) if r in mine and int(r['Frame']) == frame else r)
    with pytest.raises(ValueError, match=rf'{name}.avi has 14 frames; traced frame\(s\) \[40\]'):
        convert_echonet(src, str(tmp_path / 'out'))


def test_video_shorter_than_its_traced_frames_named(release, tmp_path):
    src = _copy(release, tmp_path)
    name = _rows(osp.join(src, 'FileList.csv'))[0]['FileName']
    frames = sorted({int(r['Frame']) for r in _rows(osp.join(src, 'VolumeTracings.csv'))
                     if r['FileName'] == name + '.avi'})
    video = osp.join(src, 'Videos', name + '.avi')
    cap = cv2.VideoCapture(video)
    kept = [cap.read()[1] for _ in range(frames[-1])]  # ends just before the last traced one
    cap.release()
    writer = cv2.VideoWriter(video, cv2.VideoWriter_fourcc(*'MJPG'), 50, (SIZE, SIZE))
    for f in kept:
        writer.write(f)
    writer.release()
    with pytest.raises(ValueError, match=rf'has {frames[-1]} frames; traced frame\(s\) '
                       rf'\[{frames[-1]}\] are beyond its end'):
        convert_echonet(src, str(tmp_path / 'out'))


def test_unknown_split_named(release, tmp_path):
    src = _copy(release, tmp_path)
    path = osp.join(src, 'FileList.csv')
    rows = _rows(path)
    with open(path, 'w', newline='', encoding='utf-8') as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows([dict(rows[0], Split='HOLDOUT')] + rows[1:])
    with pytest.raises(ValueError, match=rf"unknown Split 'HOLDOUT' for {rows[0]['FileName']}"):
        convert_echonet(src, str(tmp_path / 'out'))


def test_cli_echo_mode_is_idempotent(tmp_path, capsys):
    out = str(tmp_path / 'e')
    args = ['--mode', 'echo', '--out', out, '--patients', '3', '--frames', '4', '--size', '48',
            '--split', '0.34', '0.33', '0.33']
    assert main(args) == 0
    assert '3 videos written' in capsys.readouterr().out
    assert main(args) == 0
    assert '0 videos written' in capsys.readouterr().out
    assert main(args[:-4] + ['--split', '0.5', '0.25', '0.25', '--seed', '1']) == 2
    assert 'not' in capsys.readouterr().err
    assert main(['--mode', 'echo', '--out', str(tmp_path / 'f'), '--frames', '1']) == 2


def test_traced_pair_is_one_beat(tmp_path):
    out = str(tmp_path / 'long')
    write_echonet_dataset(out, n_videos=3, frames=60, split=(0.34, 0.33, 0.33), seed=1, size=48)
    traces = _rows(osp.join(out, 'VolumeTracings.csv'))
    for r in _rows(osp.join(out, 'FileList.csv')):
        frames = sorted({int(t['Frame']) for t in traces if t['FileName'] == r['FileName'] + '.avi'})
        assert 0 < frames[1] - frames[0] <= 24  # at most one cycle (16-24 frames) apart


def test_a_clip_shorter_than_its_cycle_still_has_two_traced_frames(tmp_path):
    out = str(tmp_path / 'short')
    write_echonet_dataset(out, n_videos=8, frames=5, split=(0.5, 0.25, 0.25), seed=2, size=48)
    traces = _rows(osp.join(out, 'VolumeTracings.csv'))
    for r in _rows(osp.join(out, 'FileList.csv')):
        assert len({t['Frame'] for t in traces if t['FileName'] == r['FileName'] + '.avi'}) == 2
