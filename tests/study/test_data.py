"""The study's data step: convert a public dataset once, build the pool without val/test."""
import os
import os.path as osp

import csv

import cv2
import numpy as np
import pytest

from mmssl_us.study.data import ensure_data


def _release(root):
    """A tiny HC18 release: 8 subjects, filled ellipse annotations, the pixel-size CSV."""
    os.makedirs(osp.join(root, 'training_set'))
    names = [f'{i:03d}_HC' for i in range(8)]
    with open(osp.join(root, 'training_set_pixel_size_and_HC.csv'), 'w', newline='') as f:
        w = csv.writer(f)
        w.writerow(['filename', 'pixel size(mm)', 'head circumference (mm)'])
        for i, stem in enumerate(names):
            img = np.random.default_rng(i).integers(0, 255, (60, 80)).astype(np.uint8)
            ann = np.zeros((60, 80), np.uint8)
            cv2.ellipse(ann, (40, 30), (20 + i, 12), 0, 0, 360, 255, -1)
            cv2.imwrite(osp.join(root, 'training_set', stem + '.png'), img)
            cv2.imwrite(osp.join(root, 'training_set', stem + '_Annotation.png'), ann)
            w.writerow([stem + '.png', 0.1, 100.0])
    return names


def test_convert_then_pool_train_images_and_an_extra_folder(tmp_path):
    src, root = str(tmp_path / 'hc18'), str(tmp_path / 'data')
    names = _release(src)
    extra = tmp_path / 'hip'
    extra.mkdir()
    import shutil
    shutil.copy(osp.join(src, 'training_set', '000_HC.png'), extra / 'frame.png')
    lines = []
    study = dict(data_root=root, convert=dict(dataset='hc18', src=src, seed=0, val=0.2,
                                              test=0.2),
                 pool=dict(splits=['train'], extra=[str(extra)]), leakage='warn')
    ensure_data(study, lines.append)
    train = sorted(os.listdir(osp.join(root, 'images', 'train')))
    # the extra folder carries a copy of 000_HC: leakage when that subject is in val or test
    # (the pretraining's exclusion would drop it; the report names it before any training)
    leaked = '000_HC.png' not in train
    assert any('WARNING' in ln and 'cross-split leakage' in ln for ln in lines) == leaked
    if leaked:
        assert any('extra_hip/frame.png' in ln for ln in lines), lines
    assert sum(len(os.listdir(osp.join(root, 'images', s))) for s in
               ('train', 'val', 'test')) == len(names)
    assert sorted(os.listdir(osp.join(root, 'unlabelled', 'train'))) == train
    assert os.listdir(osp.join(root, 'unlabelled', 'extra_hip')) == ['frame.png']
    assert any(f'{len(train)} images from train' in ln for ln in lines)
    lines.clear()
    ensure_data(study, lines.append)  # again: nothing converted, pool unchanged
    assert any('reused (converted before with these settings)' in ln for ln in lines)
    study['convert']['seed'] = 1  # another split into the same folder: refused, named
    with pytest.raises(ValueError, match=r"other settings \(seed: 0 -> 1\)"):
        ensure_data(study, lines.append)


def test_bad_convert_settings_are_named(tmp_path):
    with pytest.raises(ValueError, match="convert.dataset must be one of"):
        ensure_data(dict(data_root=str(tmp_path), convert=dict(dataset='busi', src='x')))
    with pytest.raises(FileNotFoundError, match='source folder not found'):
        ensure_data(dict(data_root=str(tmp_path), convert=dict(dataset='hc18',
                                                               src=str(tmp_path / 'no'))))
    with pytest.raises(FileNotFoundError, match='does not exist'):
        ensure_data(dict(data_root=str(tmp_path / 'missing')))


HC18 = osp.join(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), '..', 'shared',
                'data', 'hc18')


@pytest.mark.slow
@pytest.mark.skipif(not osp.isdir(HC18), reason='real HC18 data not present (../shared/data)')
def test_hc18_cpu_data_step_on_the_real_data(tmp_path):
    """configs/study/hc18_cpu.py's data step: subject split, and no val/test subject's image in
    the pretraining pool."""
    study = dict(data_root=str(tmp_path / 'hc18'),
                 convert=dict(dataset='hc18', src=HC18, seed=0, val=0.1, test=0.2),
                 pool=dict(splits=['train']))
    ensure_data(study, lambda s: None)
    root = tmp_path / 'hc18'

    def subjects(folder):
        return {f.split('_')[0] for f in os.listdir(folder)}
    train, val, test = (subjects(root / 'images' / s) for s in ('train', 'val', 'test'))
    assert not (train & val or train & test or val & test)
    pool = subjects(root / 'unlabelled' / 'train')
    assert pool == train and not pool & (val | test)
    assert sum(len(os.listdir(root / 'images' / s)) for s in ('train', 'val', 'test')) == 248


def test_the_study_stops_on_cross_split_leakage(tmp_path):
    """Issue 12: the leakage report runs before any training; a test image copied into train
    stops the study (naming it), 'warn' goes on, and the report lands in the work dir."""
    import json
    import shutil

    import cv2
    import numpy as np
    import pytest

    from mmssl_us.study.data import check_data_leakage
    root = tmp_path / 'd'
    rng = np.random.default_rng(0)
    for split, stem in (('train', 'A_0'), ('train', 'B_0'), ('val', 'C_0'), ('test', 'D_0')):
        (root / 'images' / split).mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(root / 'images' / split / f'{stem}.png'),
                    rng.integers(0, 255, (32, 32), dtype=np.uint8))
    lines = []
    check_data_leakage(str(root), {}, str(tmp_path), lines.append)  # clean: goes on
    assert 'cross-split leakage: none' in '\n'.join(lines)
    shutil.copy(root / 'images' / 'test' / 'D_0.png', root / 'images' / 'train' / 'E_0.png')
    with pytest.raises(ValueError, match='cross-split leakage'):
        check_data_leakage(str(root), {}, str(tmp_path), lines.append)
    assert 'E_0.png' in '\n'.join(lines)
    lines.clear()
    check_data_leakage(str(root), {'leakage': 'warn'}, str(tmp_path), lines.append)
    assert any('WARNING' in ln for ln in lines)
    report = json.loads((tmp_path / 'leakage.json').read_text())
    assert report['leakage'] if 'leakage' in report else report['cross_split_counts']
    with pytest.raises(ValueError, match="study.leakage must be"):
        check_data_leakage(str(root), {'leakage': 'maybe'}, str(tmp_path), lines.append)


def test_the_leakage_threshold_is_the_studys(tmp_path):
    """study.leakage_near_bits sets the near-duplicate threshold; exact copies stop at any."""
    import shutil

    import cv2
    import numpy as np
    import pytest

    from mmssl_us.data.index import FileIndex
    from mmssl_us.study.data import check_data_leakage
    root = tmp_path / 'd'
    for split in ('train', 'test'):
        (root / 'images' / split).mkdir(parents=True)
    rng = np.random.default_rng(1)
    img = cv2.GaussianBlur(rng.integers(0, 255, (64, 64)).astype(np.uint8), (9, 9), 3)
    cv2.imwrite(str(root / 'images' / 'test' / 'T_0.png'), img)
    cv2.imwrite(str(root / 'images' / 'train' / 'A_0.png'), np.clip(
        img.astype(int) + rng.integers(-3, 4, img.shape), 0, 255).astype(np.uint8))
    index = FileIndex(None)
    bits = int(np.unpackbits(index.packed_dhash(str(root / 'images' / 'test' / 'T_0.png')) ^
                             index.packed_dhash(str(root / 'images' / 'train' / 'A_0.png'))).sum())
    assert 0 < bits <= 24  # a near duplicate at the default threshold
    lines = []
    with pytest.raises(ValueError, match='cross-split leakage'):
        check_data_leakage(str(root), {}, str(tmp_path), lines.append)
    check_data_leakage(str(root), {'leakage_near_bits': bits - 1}, str(tmp_path), lines.append)
    assert f'<= {bits - 1} of 256 bits' in '\n'.join(lines)
    shutil.copy(root / 'images' / 'test' / 'T_0.png', root / 'images' / 'train' / 'B_0.png')
    with pytest.raises(ValueError, match='cross-split leakage'):  # an exact copy, at 0 bits
        check_data_leakage(str(root), {'leakage_near_bits': 0}, str(tmp_path), lines.append)


def test_each_converter_name_is_a_converter_function():
    """Issue 19: CONVERTERS maps a dataset name to a function name of
    mmssl_us.data.converters (its comment said (module, function) pairs)."""
    import inspect

    from mmssl_us.data import converters
    from mmssl_us.study.data import CONVERTERS
    for dataset, function in CONVERTERS.items():
        func = getattr(converters, function)
        assert callable(func) and function in converters.__all__, dataset
        assert list(inspect.signature(func).parameters)[:2] == ['src', 'out'], function


def test_synthetic_echonet_converted_and_pooled_between_frames(tmp_path):
    """mode='echo' writes an EchoNet-format source, `convert` reads it, the pool takes the
    between-traced frames of the TRAIN videos only; the leakage check finds nothing."""
    from mmssl_us.data.converters.echonet import read_file_list, read_tracings
    from mmssl_us.data.media import count_video_frames
    src, root = str(tmp_path / 'echonet_src'), str(tmp_path / 'data')
    study = dict(data_root=root,
                 synthetic=dict(mode='echo', out=src, patients=5, frames=12, size=48,
                                split=[0.6, 0.2, 0.2]),
                 convert=dict(dataset='echonet', src=src),
                 pool=dict(splits=[], echonet=src))
    lines = []
    ensure_data(study, lines.append)
    splits = read_file_list(osp.join(src, 'FileList.csv'))
    tracings = read_tracings(osp.join(src, 'VolumeTracings.csv'))
    train = sorted(v for v, s in splits.items() if s == 'train')
    pool = osp.join(root, 'unlabelled', 'echonet')
    assert sorted(os.listdir(pool)) == [v + '.avi' for v in train]
    total = 0
    for v in train:
        n = max(tracings[v]) - min(tracings[v]) + 1
        assert count_video_frames(osp.join(pool, v + '.avi')) == n
        total += n
    assert any(f'{total} frames from echonet between-frames' in ln for ln in lines), lines
    assert len(os.listdir(osp.join(root, 'images', 'train'))) == 2 * len(train)
    assert not any('WARNING' in ln for ln in lines)
    lines.clear()
    ensure_data(study, lines.append)  # again: nothing written
    assert any('reused' in ln for ln in lines)
