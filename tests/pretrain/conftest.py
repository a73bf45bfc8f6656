"""Tiny models and data made on the fly for the pretraining tests."""
import copy
from pathlib import Path

import cv2
import numpy as np
import pytest
from mmengine.registry import DefaultScope

import mmssl_us.pretrain  # noqa: F401  (registers our components)

TINY_DENSECL = dict(
    type='UltrasoundDenseCL',
    queue_len=8,
    feat_dim=16,
    momentum=0.001,
    loss_lambda=0.5,
    backbone=dict(type='ResNetV1c', depth=18, in_channels=3, out_indices=(3, ),
                  norm_cfg=dict(type='BN')),
    neck=dict(type='DenseCLNeck', in_channels=512, hid_channels=32, out_channels=16,
              num_grid=None),
    head=dict(type='ContrastiveHead', loss=dict(type='CrossEntropyLoss'), temperature=0.2),
    data_preprocessor=dict(type='SelfSupDataPreprocessor', mean=[40.0] * 3, std=[44.0] * 3))


@pytest.fixture(autouse=True)
def one_torch_thread():
    """One intra-op thread: the test machines have 2 shared cores, more threads only thrash."""
    import torch
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def cheap_config_text(monkeypatch):
    """mmengine's Runner formats the whole config with yapf up to 5 times per run (log, dump,
    every checkpoint's meta), about 3 s each here; the tests do not read that text."""
    from mmengine.config import Config
    monkeypatch.setattr(Config, 'pretty_text',
                        property(lambda self: repr(self._cfg_dict.to_dict())))


@pytest.fixture
def build_model():
    """``build_model(drop=(), **overrides)``: TINY_DENSECL with top-level keys replaced or
    dropped, built in the mmpretrain scope."""
    from mmpretrain.registry import MODELS

    def _build(drop=(), **overrides):
        cfg = copy.deepcopy(TINY_DENSECL)
        cfg.update(copy.deepcopy(overrides))
        for key in drop:
            cfg.pop(key)
        with DefaultScope.overwrite_default_scope('mmpretrain'):
            return MODELS.build(cfg)

    return _build


def write_sector_image(path, seed, size=64):
    """A grey image with a black border around a bright, textured fan (a small B-mode)."""
    rng = np.random.default_rng(seed)
    img = np.zeros((size, size), np.uint8)
    yy, xx = np.mgrid[:size, :size]
    fan = (np.hypot(yy + size // 4, xx - size / 2) < size * 1.1) & \
        (np.abs(xx - size / 2) < (yy + size // 4) * 0.9)
    img[fan] = rng.integers(30, 220, fan.sum())
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), img), path
    return img


def write_mjpg_avi(path, frames):
    """Write uint8 HxW grey frames to an MJPG AVI; returns the number written."""
    h, w = frames[0].shape
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*'MJPG'), 10, (w, h))
    assert writer.isOpened(), 'OpenCV cannot write MJPG AVI here'
    for f in frames:
        writer.write(cv2.cvtColor(f, cv2.COLOR_GRAY2BGR))
    writer.release()
    return len(frames)


@pytest.fixture
def media():
    """Writers of small test media: ``media.image(path, seed)``, ``media.avi(path, frames)``."""
    from types import SimpleNamespace
    return SimpleNamespace(image=write_sector_image, avi=write_mjpg_avi)
