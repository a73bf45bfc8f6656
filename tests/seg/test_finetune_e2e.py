"""End to end on CPU: a shrunk FCN config trains 2 iterations on tiny knee data and evaluates."""
import csv
import math
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner

import mmssl_us.seg  # noqa: F401
from mmssl_us.seg.config_utils import seg_cfg_options
from mmssl_us.seg.metrics.ellipse import mask_circumference

from ._helpers import write_seg_tree

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _shrunk(config, data_root, work_dir, **extra):
    cfg = Config.fromfile(osp.join(ROOT, 'configs', 'fcn', config))
    cfg.merge_from_dict(seg_cfg_options(cfg, crop_size=32, img_scale=32, max_iters=2,
                                        val_interval=2, batch_size=2, depth=18, head_channels=8,
                                        num_workers=0, **extra))
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].dataset.data_root = data_root
    cfg.work_dir = work_dir
    cfg.default_hooks.logger.interval = 1
    cfg.default_hooks.checkpoint.update(interval=1000, save_last=False)  # no 90 MB write
    return cfg


@pytest.mark.slow
def test_knee_trains_and_reports_miou_mdice(knee_root, tmp_path):
    work_dir = str(tmp_path / 'work')
    cfg = _shrunk('fcn_r50-d8-random_1xb16-40k_knee-256x256.py', knee_root, work_dir,
                  label_fraction=0.5, fraction_seed=1)
    runner = Runner.from_cfg(cfg)
    runner.train()  # validates after iteration 2 (val_interval=2)
    assert runner.iter == 2
    for key in ('aAcc', 'mIoU', 'mDice'):
        value = runner.message_hub.get_scalar(f'val/{key}').current()
        assert 0.0 <= value <= 100.0, (key, value)
    with open(osp.join(work_dir, 'label_fraction_train.txt')) as f:
        text = f.read()
    assert '# fraction: 0.5' in text and '# seed: 1' in text and '# images: 6 of 12' in text


@pytest.mark.slow
def test_hc18_evaluation_reports_head_circumference(tmp_path):
    root = str(tmp_path / 'hc18')
    written = write_seg_tree(root, {'train': ['000', '001'], 'val': ['002'],
                                    'test': ['003', '004']}, frames=1, name_fmt='{patient}_HC')
    with open(osp.join(root, 'pixel_size.csv'), 'w', newline='') as f:
        w = csv.writer(f)
        w.writerow(['filename', 'pixel size(mm)', 'head circumference (mm)', 'split'])
        w.writerows([osp.basename(p), 0.1, '', ''] for p in written)
    cfg = _shrunk('fcn_r50-d8-random_1xb16-40k_hc18-256x256.py', root, str(tmp_path / 'w'))
    runner = Runner.from_cfg(cfg)
    # Force the prediction (runner.test() does not re-initialise weights): constant logits
    # make the whole image background, then the whole image head.
    conv_seg = runner.model.decode_head.conv_seg
    torch.nn.init.zeros_(conv_seg.weight)
    with torch.no_grad():
        conv_seg.bias.copy_(torch.tensor([5.0, 0.0]))
    metrics = runner.test()
    assert {'mIoU', 'mDice', 'HC/mAD_mm', 'HC/failures', 'HC/n'} <= set(metrics)
    # no head predicted: no ellipse to fit on either test image
    assert metrics['HC/n'] == 2 and metrics['HC/failures'] == 2
    assert math.isnan(metrics['HC/mAD_mm'])
    with torch.no_grad():
        conv_seg.bias.copy_(torch.tensor([0.0, 5.0]))
    metrics = runner.test()
    # all head: the ellipse of the whole frame against each reference, at 0.1 mm per pixel,
    # measured on the original 48x64 masks (not on the 32 px network input)
    masks = [cv2.imread(p.replace('images', 'masks'), cv2.IMREAD_GRAYSCALE)
             for p in written if '/test/' in p]
    whole = mask_circumference(np.ones_like(masks[0], dtype=bool), 0.1)
    expected = np.mean([abs(whole - mask_circumference(m == 1, 0.1)) for m in masks])
    assert metrics['HC/n'] == 2 and metrics['HC/failures'] == 0
    assert metrics['HC/mAD_mm'] == pytest.approx(expected, abs=1e-3)
