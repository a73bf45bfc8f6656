"""The knee folder layout, manifest, idempotence and parallel writing."""
import json
import os
import os.path as osp

import cv2
import numpy as np
import pytest

from mmssl_us.synthetic import derive_seed, generate_frame
from mmssl_us.synthetic.writer import write_knee_dataset

ARGS = dict(n_patients=5, frames_per_patient=2, n_unlabelled=3, seed=7, size=(48, 64),
            progress_every=4)


def _files(root):
    return sorted(osp.relpath(osp.join(d, f), root) for d, _, fs in os.walk(root) for f in fs)


@pytest.fixture(scope='module')
def written(tmp_path_factory):
    out = str(tmp_path_factory.mktemp('knee'))
    manifest = write_knee_dataset(out, **ARGS)
    return out, manifest


def test_layout_and_patient_level_splits(written):
    out, manifest = written
    images = {s: sorted(os.listdir(osp.join(out, 'images', s))) for s in ('train', 'val', 'test')}
    masks = {s: sorted(os.listdir(osp.join(out, 'masks', s))) for s in ('train', 'val', 'test')}
    assert images == masks
    pids = {s: {f.split('_')[0] for f in fs} for s, fs in images.items()}
    assert pids['train'].isdisjoint(pids['val']) and pids['val'].isdisjoint(pids['test'])
    assert pids['train'].isdisjoint(pids['test'])
    assert set().union(*pids.values()) == {f'S{k:04d}' for k in range(1, 6)}
    assert [len(images[s]) for s in ('train', 'val', 'test')] == [6, 2, 2]  # 3/1/1 patients
    unl = sorted(os.listdir(osp.join(out, 'unlabelled')))
    assert unl == ['S0006_000.png', 'S0006_001.png', 'S0007_000.png']
    assert {f.split('_')[0] for f in unl}.isdisjoint(set().union(*pids.values()))
    for s in ('train', 'val', 'test'):
        assert pids[s] == set(manifest['patients'][s])


def test_files_are_the_generator_frames(written):
    out, manifest = written
    for split, pids in manifest['patients'].items():
        for pid in pids:
            k = int(pid[1:]) - 1
            name = f'{pid}_001.png' if split != 'unlabelled' else f'{pid}_000.png'
            sub = 'unlabelled' if split == 'unlabelled' else osp.join('images', split)
            img = cv2.imread(osp.join(out, sub, name), cv2.IMREAD_UNCHANGED)
            frame = int(name[-7:-4])
            ref = generate_frame(derive_seed(7, k), frame, (48, 64))
            np.testing.assert_array_equal(img, ref.image)
            if split != 'unlabelled':
                mask = cv2.imread(osp.join(out, 'masks', split, name), cv2.IMREAD_UNCHANGED)
                assert mask.dtype == np.uint8 and mask.ndim == 2
                np.testing.assert_array_equal(mask, ref.mask)


def test_manifest_counts(written):
    out, manifest = written
    with open(osp.join(out, 'synthetic.json')) as f:
        on_disk = json.load(f)
    assert on_disk['complete'] is True
    assert on_disk['params']['seed'] == 7 and on_disk['params']['size'] == [48, 64]
    assert on_disk['params']['generator_version']
    counts = on_disk['counts']
    assert {k: v['images'] for k, v in counts.items()} == dict(train=6, val=2, test=2,
                                                                unlabelled=3)
    n_masks = 0
    for s in ('train', 'val', 'test'):
        flags = [cv2.imread(osp.join(out, 'masks', s, f), 0).any()
                 for f in os.listdir(osp.join(out, 'masks', s))]
        assert counts[s]['images_with_effusion'] == sum(flags)
        n_masks += len(flags)
    assert n_masks == 10


def test_rerun_is_a_no_op(written):
    out, _ = written
    before = {f: os.stat(osp.join(out, f)).st_mtime_ns for f in _files(out)}
    again = write_knee_dataset(out, **ARGS)
    assert again['written'] == 0
    assert {f: os.stat(osp.join(out, f)).st_mtime_ns for f in _files(out)} == before


def test_interrupted_run_is_completed(tmp_path):
    out = str(tmp_path)
    write_knee_dataset(out, **ARGS)
    os.remove(osp.join(out, 'unlabelled', 'S0007_000.png'))
    again = write_knee_dataset(out, **ARGS)
    assert again['written'] == 1
    assert osp.isfile(osp.join(out, 'unlabelled', 'S0007_000.png'))


def test_other_arguments_need_overwrite(tmp_path):
    out = str(tmp_path)
    write_knee_dataset(out, **ARGS)
    with pytest.raises(FileExistsError, match='seed=7 there, 8 asked'):
        write_knee_dataset(out, **dict(ARGS, seed=8))
    (tmp_path / 'notes.txt').write_text('keep me')
    manifest = write_knee_dataset(out, **dict(ARGS, seed=8, n_unlabelled=0), overwrite=True)
    assert manifest['params']['seed'] == 8
    assert os.listdir(osp.join(out, 'unlabelled')) == []
    assert (tmp_path / 'notes.txt').read_text() == 'keep me'


def test_foreign_folder_is_refused(tmp_path):
    (tmp_path / 'data.csv').write_text('x')
    with pytest.raises(FileExistsError, match='no synthetic.json'):
        write_knee_dataset(str(tmp_path), **ARGS)


def test_workers_write_the_same_files(tmp_path, written):
    out, _ = written
    par = str(tmp_path / 'par')
    manifest = write_knee_dataset(par, workers=2, **ARGS)
    assert manifest['written'] == 10 + 3
    assert _files(par) == _files(out)
    for f in _files(out):
        if f.endswith('.png'):
            a = cv2.imread(osp.join(out, f), cv2.IMREAD_UNCHANGED)
            np.testing.assert_array_equal(a, cv2.imread(osp.join(par, f), cv2.IMREAD_UNCHANGED))


def test_progress_lines(tmp_path, capsys):
    import sys
    write_knee_dataset(str(tmp_path), stream=sys.stdout, **ARGS)
    lines = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith('[synthetic]')]
    assert len(lines) >= 3 and '13/13 images' in lines[-1] and 'ETA' in lines[-1]


@pytest.mark.parametrize('kwargs,name', [
    (dict(n_patients=-1), 'n_patients'), (dict(frames_per_patient=0), 'frames_per_patient'),
    (dict(workers=0), 'workers'), (dict(split=(0.5, 0.6, 0.1)), 'split'),
    (dict(n_patients=0, n_unlabelled=0), 'nothing to write')])
def test_bad_arguments_are_named(tmp_path, kwargs, name):
    with pytest.raises(ValueError, match=name):
        write_knee_dataset(str(tmp_path), **dict(ARGS, **kwargs))
