"""DenseProbeHook: the mIoU it reports, and that it tells a useful backbone from a useless one."""
import json
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from torch import nn

from mmssl_us.pretrain.hooks.dense_probe import DenseProbeHook, probe_miou


def test_probe_miou_against_a_hand_checked_value():
    label = np.array([[0, 0, 1, 1],
                      [0, 0, 1, 255]])
    pred = np.array([[0, 1, 1, 1],
                     [0, 0, 0, 0]])
    # ignoring the 255 pixel: class 0: pred {00,10,11,13x} -> inter {00,10,11}=3,
    # union = pred0 {00,10,11,12} + label0 {00,01,10,11} = {00,01,10,11,12} = 5 -> 60%
    # class 1: inter {02,03}=2, union {01,02,03,12}=4 -> 50%
    miou, ious = probe_miou(pred, label, num_classes=2)
    assert ious == pytest.approx([60.0, 50.0])
    assert miou == pytest.approx(55.0)
    # a class absent from prediction and label is left out of the mean
    miou3, ious3 = probe_miou(pred, label, num_classes=3)
    assert np.isnan(ious3[2]) and miou3 == pytest.approx(55.0)
    with pytest.raises(ValueError, match='shape'):
        probe_miou(pred[:1], label, 2)


def _dataset(root, n=6, size=48):
    """Bright discs on dark speckle; mask = the disc. Patient id = the stem before '_'."""
    rng = np.random.default_rng(0)
    for split in ('train', 'val'):
        for i in range(n):
            img = rng.integers(0, 40, (size, size)).astype(np.uint8)
            mask = np.zeros((size, size), np.uint8)
            c = tuple(int(v) for v in rng.integers(14, size - 14, 2))
            cv2.circle(mask, c, int(rng.integers(6, 12)), 1, -1)
            img[mask == 1] = rng.integers(150, 250, int(mask.sum()))
            for kind, arr in (('images', img), ('masks', mask)):
                d = osp.join(root, kind, split)
                import os
                os.makedirs(d, exist_ok=True)
                cv2.imwrite(osp.join(d, f'p{split}{i}_0.png'), arr)


class _Stages(nn.Module):
    """A 'backbone' with two stages: pooled intensity (sees the structure) or noise."""

    def __init__(self, sees: bool):
        super().__init__()
        self.sees = sees
        self.layer3 = nn.AvgPool2d(4)
        self.layer4 = nn.AvgPool2d(2)

    def forward(self, x):
        if not self.sees:
            x = torch.randn(x.shape, generator=torch.Generator().manual_seed(0))
        return self.layer4(self.layer3(x))


def test_a_backbone_that_sees_the_structure_scores_higher(tmp_path):
    _dataset(str(tmp_path))
    hook = DenseProbeHook(str(tmp_path), fraction=1.0, size=32, steps=100)
    good, _ = hook.probe(_Stages(sees=True))
    bad, _ = hook.probe(_Stages(sees=False))
    assert good > 70 and good > bad + 20, (good, bad)
    # deterministic: the same backbone gives the same number
    assert hook.probe(_Stages(sees=True))[0] == good


@pytest.mark.slow
def test_the_probe_restores_train_mode_and_never_reads_test(tmp_path):
    _dataset(str(tmp_path))
    hook = DenseProbeHook(str(tmp_path), fraction=1.0, size=32, steps=5)
    net = _Stages(sees=True).train()
    hook.probe(net)
    assert net.training
    with pytest.raises(ValueError, match='never reads the test split'):
        DenseProbeHook(str(tmp_path), val_split='test')
    with pytest.raises(ValueError, match='no module'):
        DenseProbeHook(str(tmp_path), stages=('layer9',), fraction=1.0, size=32).probe(net)


@pytest.mark.slow
def test_in_a_tiny_pretraining_the_probe_is_logged_and_saved(tmp_path, media):
    from mmengine.runner import Runner

    from .test_queue_hook import tiny_cfg
    cfg = tiny_cfg(tmp_path, media, n_images=8, epochs=2)
    _dataset(str(tmp_path / 'data'), n=4, size=64)
    cfg.custom_hooks.append(dict(type='DenseProbeHook', data_root=str(tmp_path / 'data'),
                                 fraction=1.0, size=64, interval=1, steps=20))
    Runner.from_cfg(cfg).train()
    with open(osp.join(cfg.work_dir, 'probe.json')) as f:
        history = json.load(f)
    assert [h['epoch'] for h in history] == [0, 1, 2]  # before training, after each epoch
    for h in history:
        assert 0 <= h['mIoU'] <= 100 and len(h['IoU']) == 2
