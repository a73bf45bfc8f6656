"""Every pretraining config parses, builds its model and says what the papers' setup is."""
import glob
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = [  # one per method, its deep-stem ResNet-50 on knee; the variants have their own tests
    osp.join(ROOT, 'configs', name) for name in (
        'byol/byol_resnet50_1xb32-coslr-200e_knee.py', 'densecl/r50_knee.py',
        'mocov2/mocov2_resnet50_1xb32-coslr-200e_knee.py',
        'simclr/simclr_resnet50_1xb32-coslr-200e_knee.py')]
EXPECTED_MODEL = dict(densecl='UltrasoundDenseCL', mocov2='UltrasoundMoCo', simclr='SimCLR',
                      byol='BYOL')


def _name(path):
    return osp.basename(osp.dirname(path))


def test_one_config_per_algorithm():
    assert [_name(p) for p in CONFIGS] == ['byol', 'densecl', 'mocov2', 'simclr']
    assert all(osp.isfile(p) for p in CONFIGS)
    # a method that gains a knee ResNet-50 pretraining config is tested here (Genesis: its own)
    knee = {_name(p) for p in glob.glob(osp.join(ROOT, 'configs', '*', '*_resnet50*_knee.py'))}
    assert knee - {'genesis'} <= {_name(p) for p in CONFIGS}, knee


@pytest.mark.parametrize('path', CONFIGS, ids=_name)
def test_config_builds_model_and_shares_data(path):
    from mmpretrain.registry import MODELS
    cfg = Config.fromfile(path)
    assert cfg.default_scope == 'mmpretrain'
    assert cfg.custom_imports.imports == ['mmssl_us.pretrain']
    assert cfg.model.type == EXPECTED_MODEL[_name(path)]
    assert cfg.model.backbone.type == 'ResNetV1c' and cfg.model.backbone.depth == 50
    loader = cfg.train_dataloader
    assert loader.batch_size == 32 and loader.drop_last
    assert loader.dataset.type == 'UltrasoundUnlabelledDataset'
    assert loader.dataset.exclude == ['images/val', 'images/test']
    types = repr(loader.dataset.pipeline)
    for stock in ("'ColorJitter'", "'RandomGrayscale'", "'RandomResizedCrop'", "'GaussianBlur'"):
        assert stock not in types
    for ours in ('SectorRandomResizedCrop', 'SpeckleNoise', 'GainChange', 'LogCompression',
                 'TGCCurve', 'DepthAttenuation', 'AcousticShadow', 'AnisotropicPSFBlur'):
        assert ours in types
    model_cfg = cfg.model.copy()
    model_cfg.setdefault('data_preprocessor', cfg.data_preprocessor)  # what the Runner does
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        model = MODELS.build(model_cfg)
    assert model.data_preprocessor.mean.flatten().tolist() == [40.0] * 3
    assert sum(p.numel() for p in model.backbone.parameters()) > 23e6  # a ResNet-50
    assert model.backbone.stem[0].conv.in_channels == 3


def test_densecl_setup_follows_the_paper():
    cfg = Config.fromfile(osp.join(ROOT, 'configs', 'densecl', 'r50_knee.py'))
    opt = cfg.optim_wrapper.optimizer
    assert opt.type == 'SGD' and opt.momentum == 0.9 and opt.weight_decay == 1e-4
    assert opt.lr == pytest.approx(0.03 * 32 / 256)
    assert cfg.train_cfg.max_epochs == 200
    assert cfg.param_scheduler[0].type == 'CosineAnnealingLR'
    m = cfg.model
    assert (m.feat_dim, m.head.temperature, m.loss_lambda, m.momentum) == (128, 0.2, 0.5, 0.001)
    assert m.queue_len == 'auto'
    hooks = [h.type for h in cfg.custom_hooks]
    assert hooks == ['NegativeQueueHook', 'DenseCLHook', 'SaveStartWeightsHook']
    assert cfg.custom_hooks[1].start_iters == 1000


def test_missing_data_error_from_the_config(tmp_path, monkeypatch):
    from mmpretrain.registry import DATASETS
    monkeypatch.chdir(tmp_path)
    cfg = Config.fromfile(osp.join(ROOT, 'configs', 'densecl', 'r50_knee.py'))
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        with pytest.raises(FileNotFoundError) as err:
            DATASETS.build(cfg.train_dataloader.dataset)
    msg = str(err.value)
    assert 'unlabelled data folder not found: data/knee/unlabelled' in msg
    assert 'python tools/generate_synthetic.py --out data/knee' in msg


def test_pipeline_output_on_synthetic_frame(tmp_path, media):
    """The config's pipeline: two 224x224 views of one grey plane repeated to 3 channels."""
    from mmpretrain.registry import DATASETS
    for i in range(2):
        media.image(tmp_path / 'knee' / 'unlabelled' / f'p{i}_0.png', seed=i, size=160)
    for split in ('val', 'test'):  # the evaluation folders the pool excludes
        (tmp_path / 'knee' / 'images' / split).mkdir(parents=True)
    cfg = Config.fromfile(osp.join(ROOT, 'configs', 'densecl', 'r50_knee.py'))
    cfg.train_dataloader.dataset.data_root = str(tmp_path / 'knee')
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        ds = DATASETS.build(cfg.train_dataloader.dataset)
    np.random.seed(0)  # the transforms draw from np.random
    views = ds[0]['inputs']
    assert len(views) == 2 and all(tuple(v.shape) == (3, 224, 224) for v in views)
    assert all(v.dtype == torch.uint8 and torch.equal(v[0], v[2]) for v in views)
    assert not torch.equal(views[0], views[1])  # two different augmentations


@pytest.mark.slow
@pytest.mark.usefixtures('cheap_config_text')
@pytest.mark.parametrize('path', [p for p in CONFIGS if _name(p) != 'densecl'], ids=_name)
def test_other_algorithms_train_two_iterations(tmp_path, media, path):
    """MoCo v2 / SimCLR / BYOL run through the Runner on CPU with the shared pipeline
    (shrunk: ResNet-18, 64 px, batch 4); DenseCL's runs are in hooks/test_queue_hook.py."""
    from mmengine.runner import Runner
    for i in range(8):
        media.image(tmp_path / 'knee' / 'unlabelled' / f'p{i}_0.png', seed=i)
    for split in ('val', 'test'):  # the evaluation folders the pool excludes
        (tmp_path / 'knee' / 'images' / split).mkdir(parents=True)
    cfg = Config.fromfile(path)
    cfg.work_dir = str(tmp_path / 'work')
    cfg.model.backbone.depth = 18
    cfg.model.neck.in_channels = 512
    cfg.train_dataloader.update(batch_size=4, num_workers=0, persistent_workers=False)
    cfg.train_dataloader.dataset.data_root = str(tmp_path / 'knee')
    cfg.train_dataloader.dataset.pipeline[1].transforms[0][0].scale = 64
    cfg.train_cfg.max_epochs = 1
    cfg.default_hooks.logger.interval = 1
    runner = Runner.from_cfg(cfg)
    before = runner.model.backbone.layer1[0].conv1.weight.detach().clone()
    runner.train()
    assert runner.iter == 2
    assert not torch.equal(before, runner.model.backbone.layer1[0].conv1.weight)
    assert osp.isfile(osp.join(cfg.work_dir, 'epoch_1.pth'))
