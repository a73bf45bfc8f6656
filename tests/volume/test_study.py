"""The one-command 3D study (issue 20) with nnU-Net's steps faked (their signatures, their
files): the plan of ratios x seeds x arms, nested patient-level draws as nnU-Net folds, the
scores, resume, the recorded settings, the report; and the refusals. The real steps are tested
in test_nnunet.py (they need nnunetv2 and minutes)."""
import json
import os
import os.path as osp

import numpy as np
import pytest

from mmssl_us.study.results import read_results
from mmssl_us.volume import study as vs
from mmssl_us.volume.synthetic import write_nifti

LABELLED_TRAIN = [f'lab{i:03d}' for i in range(10)]
VAL = ['lab010', 'lab011']
TEST = ['lab012', 'lab013', 'lab014']


def _ref(case):
    vol = np.zeros((8, 8, 8), np.uint8)
    vol[2:6, 2:6, 2:6] = 1
    return vol


def fake_prepare(calls):
    def prepare(v, work_dir, log):
        calls.append('prepare')
        raw = osp.join(work_dir, 'nnunet', 'raw', 'Dataset501_X')
        pre = osp.join(work_dir, 'nnunet', 'preprocessed', 'Dataset501_X')
        for sub in ('imagesTs', 'labelsTs'):
            os.makedirs(osp.join(raw, sub), exist_ok=True)
        os.makedirs(pre, exist_ok=True)
        for case in TEST:
            write_nifti(osp.join(raw, 'labelsTs', f'{case}.nii.gz'), _ref(case), (1, 1, 1))
        with open(osp.join(raw, 'splits_final.json'), 'w') as f:
            json.dump([dict(train=LABELLED_TRAIN, val=VAL)], f)
        dataset_json = dict(labels=dict(background=0, structure=1),
                            mmssl_us=dict(unlabelled=[f'unl{i:03d}' for i in range(40)]))
        return dict(dirs=dict(raw='r', preprocessed='p'), raw=raw, preprocessed=pre,
                    results=osp.join(work_dir, 'nnunet', 'results'),
                    pretrain=dict(genesis='g.pth', same_start='s.pth'),
                    dataset_json=dataset_json)
    return prepare


def fake_train(calls, quality):
    def train(dataset_id, fold, weights, dirs, results, finetune, seed, log_path):
        run_dir = osp.join(results, 'Dataset501_X', 'T', f'fold_{fold}')
        os.makedirs(run_dir, exist_ok=True)
        calls.append((osp.basename(results), fold, weights, seed))
        ema = [0.2, 0.5, 0.8, 0.9, 0.85]
        with open(osp.join(run_dir, 'training_log.json'), 'w') as f:
            json.dump(dict(mean_fg_dice=ema, ema_fg_dice=ema,
                           epoch_start_timestamps=[0, 10, 20, 30, 40],
                           epoch_end_timestamps=[10, 20, 30, 40, 50]), f)
        with open(osp.join(run_dir, 'quality'), 'w') as f:
            f.write(str(quality(osp.basename(results), fold, seed)))
        return run_dir
    return train


def fake_predict(model_dir, fold, images_ts, out_dir):
    """A prediction that misses `quality` rows of each reference cube."""
    miss = int(open(osp.join(model_dir, 'quality')).read())
    os.makedirs(out_dir, exist_ok=True)
    for case in TEST:
        pred = _ref(case)
        pred[2:2 + miss] = 0
        write_nifti(osp.join(out_dir, f'{case}.nii.gz'), pred, (1, 1, 1))


VOLUME = dict(ratios=[10, 4], seeds=[0, 1], finetune=dict(epochs=5, iters=2, val_iters=1))


def _run(tmp_path, volume=None, quality=lambda init, fold, seed: 0, calls=None):
    calls = [] if calls is None else calls
    return vs.run_volume_study(dict(volume or VOLUME), str(tmp_path / 'work'),
                               log=lambda s: None, train_fn=fake_train(calls, quality),
                               predict_fn=fake_predict, prepare_fn=fake_prepare(calls)), calls


def test_the_study_runs_every_arm_on_nested_draws_and_reports(tmp_path):
    quality = {'random': 2, 'genesis': 0, 'genesis_start': 1}
    work, calls = _run(tmp_path, quality=lambda init, fold, seed: quality[init])
    rows = read_results(osp.join(work, 'results.csv'))
    assert len(rows) == 2 * 2 * 3
    assert {(r['ratio'], r['labelled']) for r in rows} == {(10.0, 4), (4.0, 10)}
    assert {r['fraction'] for r in rows} == {0.4, 1.0}
    # the arms: random without weights, the two pretrained files
    trained = [c for c in calls if c != 'prepare']
    assert {(c[0], c[2]) for c in trained} == {('random', None), ('genesis', 'g.pth'),
                                               ('genesis_start', 's.pth')}
    # scores: a perfect prediction is 100; missing 2 of 4 rows of the cube halves it
    by = {(r['init'], r['ratio'], r['seed']): r for r in rows}
    assert by['genesis', 10.0, 0]['fgDice'] == pytest.approx(100.0)
    assert by['random', 10.0, 0]['Dice.structure'] == pytest.approx(100 * 2 * 32 / (32 + 64))
    assert by['random', 10.0, 0]['epochs_to_90'] == 3  # 0.8 >= 0.9 * 0.85 > 0.5
    assert by['random', 10.0, 0]['seconds_to_90'] == 30
    assert by['random', 10.0, 0]['best_iter'] == 4  # the epoch of checkpoint_best
    # the folds: nested over ratios for one seed, one fold per draw, val the same for all
    splits = json.load(open(osp.join(work, 'nnunet', 'preprocessed', 'Dataset501_X',
                                     'splits_final.json')))
    assert len(splits) == 1 + 4 and splits[0]['train'] == LABELLED_TRAIN
    folds = json.load(open(osp.join(work, 'folds.json')))
    for seed in (0, 1):
        few, many = folds[f'ratio10_seed{seed}'], folds[f'ratio4_seed{seed}']
        assert len(few['train']) == 4 and set(few['train']) <= set(many['train'])
        assert splits[few['fold']]['train'] == few['train']
        assert all(s['val'] == VAL for s in splits)
    assert folds['ratio10_seed0']['train'] != folds['ratio10_seed1']['train']
    md = open(osp.join(work, 'results.md')).read()
    assert 'genesis_start' in md and 'Gates' in md


def test_a_resumed_study_skips_finished_runs_and_adds_seeds(tmp_path):
    work, calls = _run(tmp_path)
    folds = json.load(open(osp.join(work, 'folds.json')))
    calls.clear()
    _run(tmp_path, calls=calls)
    assert [c for c in calls if c != 'prepare'] == []
    _run(tmp_path, dict(VOLUME, seeds=[0, 1, 2]), calls=calls)
    trained = [c for c in calls if c != 'prepare']
    assert len(trained) == 2 * 3 and {c[3] for c in trained} == {2}
    again = json.load(open(osp.join(work, 'folds.json')))
    assert all(again[k] == folds[k] for k in folds)  # the old draws keep their folds
    assert len(read_results(osp.join(work, 'results.csv'))) == 18


def test_a_resume_with_other_fine_tuning_settings_is_refused(tmp_path):
    _run(tmp_path)
    with pytest.raises(ValueError, match=r'this 3D study was made with other settings .*'
                                         r'finetune.epochs: 5 -> 6'):
        _run(tmp_path, dict(VOLUME, finetune=dict(epochs=6, iters=2, val_iters=1)))


@pytest.mark.parametrize('volume, match', [
    (dict(ratio=[4]), r"unknown key 'ratio' \(did you mean 'ratios'\?\)"),
    (dict(finetune=dict(epoch=3)), r"volume.finetune: unknown key 'epoch'"),
    (dict(ratios=[4, 4]), 'lists a ratio twice'),
    (dict(ratios=[0]), r'volume.ratios\[0\]'),
    (dict(inits=['random', 'genesis_start']), "must be in volume.inits too"),
    (dict(inits=['random', 'imagenet']), r'volume.inits\[1\]'),
    (dict(seeds=[0, 0]), 'more than once'),
    (dict(baseline='genesis', inits=['random']), 'volume.baseline'),
    (dict(finetune=dict(val_iters='some')), "val_iters must be a positive int or 'all'"),
    (dict(finetune=dict(val_iters=0)), "val_iters must be a positive int or 'all'"),
    (dict(finetune=dict(ema=1.0)), r'volume.finetune.ema must be a number in \[0, 1\)'),
])
def test_bad_settings_are_refused_before_any_work(tmp_path, volume, match):
    with pytest.raises(ValueError, match=match):
        _run(tmp_path, volume)
    assert not (tmp_path / 'work').exists()


def test_a_ratio_the_data_cannot_give_is_refused_with_the_range():
    assert vs.labelled_counts(40, 10, [10, 4]) == {10: 4, 4: 10}
    with pytest.raises(ValueError, match=r'ratio 2:1 .* needs 20 labelled .* holds 10: '
                                         r'choose ratios between 4 and 40'):
        vs.labelled_counts(40, 10, [2])


def test_draws_are_patient_level_nested_and_seeded():
    cases = ['a_0', 'a_1', 'b_0', 'c_0', 'd_0', 'e_0']
    small, big = vs.draw_labelled(cases, 2, 3), vs.draw_labelled(cases, 4, 3)
    assert set(small) <= set(big)
    assert ('a_0' in small) == ('a_1' in small)  # a patient's cases go together
    assert vs.draw_labelled(cases, 2, 3) == small
    assert any(vs.draw_labelled(cases, 2, s) != small for s in range(4))


def test_volume_configs_go_to_the_3d_study(tmp_path, monkeypatch):
    from mmssl_us.study import cli
    seen = {}
    monkeypatch.setattr(vs, 'run_from_config',
                        lambda path, work_dir, cfg_options=None: seen.update(path=path))
    config = osp.join(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))),
                      'configs', 'study', 'volume_quickstart.py')
    assert cli.main([config, '--work-dir', str(tmp_path / 'w')]) == 0
    assert seen['path'] == config
    from mmengine.config import Config
    checked = vs.check_volume_study(Config.fromfile(config).volume.to_dict())
    assert checked['inits'] == ['random', 'genesis', 'genesis_start']


def test_nnunet_env_sets_only_what_it_is_given_and_restores(monkeypatch):
    """predict_test sets the trainer folder alone; the folders a caller set stay as they were."""
    import os

    from mmssl_us.volume.nnunet import nnunet_env
    monkeypatch.setenv('nnUNet_raw', '/mine')
    for name in ('nnUNet_extTrainer', 'nnUNet_results'):
        monkeypatch.delenv(name, raising=False)
    with nnunet_env(nnUNet_extTrainer='/trainers'):
        assert os.environ['nnUNet_extTrainer'] == '/trainers'
        assert os.environ['nnUNet_raw'] == '/mine'
    assert 'nnUNet_extTrainer' not in os.environ and os.environ['nnUNet_raw'] == '/mine'
    with nnunet_env('/r', '/p', '/s'):
        assert (os.environ['nnUNet_raw'], os.environ['nnUNet_results']) == ('/r', '/s')
    assert os.environ['nnUNet_raw'] == '/mine' and 'nnUNet_results' not in os.environ
