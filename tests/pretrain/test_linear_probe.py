"""The linear probe (mmssl_us/pretrain/linear_probe.py, wrapped by
tools/analysis/hip_spj_linear_probe.py) on tiny class folders made on the fly."""
import os
import os.path as osp
import shutil

import cv2
import numpy as np
import torch

from mmssl_us.pretrain.linear_probe import main, probe_accuracy, unique_samples

CLASSES = ('standard_ultrasound', 'substandard_ultrasound')


def _folders(root, per_class=4, size=32):
    rng = np.random.default_rng(0)
    for c, name in enumerate(CLASSES):
        folder = osp.join(root, name)
        os.makedirs(folder)
        for i in range(per_class):
            img = rng.integers(0, 60, (size, size), dtype=np.uint8) + 120 * c
            cv2.imwrite(osp.join(folder, f'p{i}_{c}.png'), img)
    # a byte-identical copy in the same class: kept once
    shutil.copy(osp.join(root, CLASSES[0], 'p0_0.png'), osp.join(root, CLASSES[0], 'dup.png'))
    return root


def test_probe_accuracy_is_one_on_separable_features_and_per_repeat():
    labels = np.array([0, 1] * 10)
    features = np.stack([labels * 4.0 + np.linspace(0, 0.1, 20), np.zeros(20)], 1)
    acc = probe_accuracy(features, labels, repeats=3, folds=2)
    assert acc.shape == (3, ) and np.all(acc == 1.0)
    # features that say nothing: every image predicted once per repeat, at most chance-ish
    noise = np.random.default_rng(0).normal(size=(20, 2))
    acc = probe_accuracy(noise, labels, repeats=4, folds=2)
    assert np.all((acc >= 0) & (acc <= 1)) and acc.mean() < 0.9


def test_byte_identical_images_are_kept_once(tmp_path):
    from mmengine.config import Config

    from mmssl_us.config_utils import resolve_config
    from mmssl_us.pretrain.linear_probe import CONFIG
    root = _folders(str(tmp_path / 'spj'))
    paths, labels, classes, dups = unique_samples(Config.fromfile(resolve_config(CONFIG)), root)
    assert tuple(classes) == CLASSES and len(paths) == 8 and list(np.bincount(labels)) == [4, 4]
    assert len(dups) == 1 and {'dup.png', 'p0_0.png'} == set(dups[0])


def test_main_probes_each_arm_on_frozen_features(tmp_path, capsys):
    from mmpretrain.models.backbones import ResNetV1c
    root = _folders(str(tmp_path / 'spj'))
    torch.manual_seed(1)
    state = {f'backbone.{k}': v for k, v in ResNetV1c(depth=18).state_dict().items()}
    ckpt = str(tmp_path / 'final.pth')
    torch.save({'state_dict': state}, ckpt)
    assert main(['--data', root, '--densecl', ckpt, '--depth', '18', '--img-size', '32',
                 '--repeats', '2', '--folds', '2']) == 0
    out = capsys.readouterr().out
    assert '8 images (standard_ultrasound 4, substandard_ultrasound 4)' in out
    assert 'features (8, 512)' in out and '[random] mmpretrain default init' in out
    assert 'densecl - random: mean' in out and 'start' not in out.split('linear probe')[1]
