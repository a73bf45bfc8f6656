"""configs/linear_probe/resnet50-densecl-linear_hip-spj.py: mmpretrain's runner builds the
classifier, VerifiedPretrained loads the converted (or the raw, with prefix='backbone.') DenseCL
backbone exactly, and two iterations train the linear head only on tiny class folders."""
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import Hook

from mmssl_us.transfer import convert_checkpoint

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(ROOT, 'configs', 'linear_probe', 'resnet50-densecl-linear_hip-spj.py')


@pytest.fixture
def folders(tmp_path, media):
    """2 + 2 grey images, one class folder with a sub-folder (as the hip data has)."""
    root = tmp_path / 'spj'
    media.image(root / 'standard_ultrasound' / 'standard_0.png', seed=0)
    media.image(root / 'standard_ultrasound' / 'standard_1.png', seed=1)
    media.image(root / 'substandard_ultrasound' / 'poor labrum display' / 's_0.png', seed=2)
    media.image(root / 'substandard_ultrasound' / 'nonmiddle plane' / 's_1.png', seed=3)
    return str(root)


@pytest.fixture
def pretraining(tmp_path, build_model):
    """A tiny DenseCL (ResNetV1c-18) pretraining checkpoint, BN moved off its default init."""
    torch.manual_seed(0)
    model = build_model()
    with torch.no_grad():
        for t in model.backbone.state_dict().values():
            if t.dtype.is_floating_point and t.dim() == 1:
                t.add_(torch.rand_like(t) * 0.1)
    src = str(tmp_path / 'epoch_1.pth')
    torch.save({'state_dict': model.state_dict(), 'meta': {'epoch': 1}}, src)
    return src, model


def _tiny(tmp_path, data_root, checkpoint, prefix=None):
    cfg = Config.fromfile(CONFIG)
    cfg.work_dir = str(tmp_path / 'work')
    cfg.model.backbone.depth = 18
    cfg.model.backbone.init_cfg.checkpoint = checkpoint
    if prefix:
        cfg.model.backbone.init_cfg.prefix = prefix
    cfg.model.head.in_channels = 512
    loader = cfg.train_dataloader
    loader.update(batch_size=2, num_workers=0, persistent_workers=False)
    loader.dataset.data_root = data_root
    loader.dataset.pipeline[1].scale = (64, 64)
    cfg.test_dataloader = cfg.test_evaluator = cfg.test_cfg = None
    cfg.train_cfg.max_epochs = 1
    cfg.default_hooks.logger.interval = 1
    cfg.env_cfg.dist_cfg = dict(backend='gloo')
    return cfg


def test_config_is_a_frozen_linear_probe():
    cfg = Config.fromfile(CONFIG)
    backbone = cfg.model.backbone
    assert (backbone.type, backbone.frozen_stages, backbone.norm_eval) == ('ResNetV1c', 4, True)
    assert backbone.init_cfg.type == 'VerifiedPretrained'
    assert cfg.model.head.type == 'LinearClsHead' and cfg.model.head.num_classes == 2
    assert cfg.model.data_preprocessor.mean == [40.0] * 3
    assert cfg.model.data_preprocessor.std == [44.0] * 3
    assert cfg.custom_imports.imports == ['mmssl_us.transfer.init']


@pytest.mark.slow
@pytest.mark.parametrize('raw', [False, True], ids=['converted', 'raw-with-prefix'])
def test_probe_trains_two_iterations_on_a_frozen_pretrained_backbone(
        raw, tmp_path, folders, pretraining):
    from mmengine.runner import Runner
    src, model = pretraining
    if raw:
        checkpoint, prefix = src, 'backbone.'
    else:
        checkpoint, prefix = str(tmp_path / 'backbone_mmpretrain.pth'), None
        convert_checkpoint(src, checkpoint, target='mmpretrain', verify=True)
    expected = model.backbone.state_dict()
    cfg = _tiny(tmp_path, folders, checkpoint, prefix)
    seen = {}

    class _Check(Hook):
        priority = 'HIGHEST'

        def before_train(self, runner):
            own = runner.model.backbone.state_dict()
            seen['keys'] = set(own) == set(expected)
            seen['differ'] = [k for k, v in expected.items() if not torch.equal(own[k], v)]
            seen['head'] = runner.model.head.fc.weight.detach().clone()

        def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
            seen.setdefault('losses', []).append(float(outputs['loss'].detach()))

    runner = Runner.from_cfg(cfg)
    runner.register_hook(_Check())
    runner.train()
    assert runner.train_dataloader.dataset.CLASSES == ('standard_ultrasound',
                                                       'substandard_ultrasound')
    assert len(runner.train_dataloader.dataset) == 4
    assert seen['keys'] and seen['differ'] == []  # exactly the pretrained backbone
    assert len(seen['losses']) == 2 and all(np.isfinite(seen['losses']))
    own = runner.model.backbone.state_dict()
    # frozen (weights and BN statistics), while the linear head moved
    assert [k for k, v in expected.items() if not torch.equal(own[k], v)] == []
    assert not torch.equal(runner.model.head.fc.weight, seen['head'])


HIP = osp.join(osp.dirname(ROOT), 'shared', 'data', 'nhbs_hip_spj', 'SPJ_dataset')


def test_hip_folder_reads_as_two_balanced_classes_without_duplicates():
    """The real SPJ folder through the config's dataset, as the probe script reads it."""
    if not osp.isdir(HIP):
        pytest.skip(f'{HIP} absent')
    from mmssl_us.pretrain import linear_probe as tool  # tools/analysis/hip_spj_linear_probe.py
    paths, labels, classes, dups = tool.unique_samples(Config.fromfile(CONFIG), HIP)
    assert classes == ('standard_ultrasound', 'substandard_ultrasound')
    assert len(paths) == 50 and (labels == 0).sum() == 25 and (labels == 1).sum() == 25
    assert dups == [('standard_1.png', 'standard_0.png')]  # byte-identical pair, kept once
    acc = tool.probe_accuracy(np.eye(50) + labels[:, None],
                              labels, repeats=2, folds=5)
    assert acc.shape == (2, ) and (acc == 1.0).all()  # a feature equal to the label: perfect
