"""configs/genesis/genesis_resnet50_1xb32-coslr-200e_knee.py: what it shares with DenseCL, what
it takes from the paper, that pretrain_cfg_options shrinks it, and a 2-iteration run whose
encoder converts to mmseg."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.registry import DefaultScope

from mmssl_us.pretrain.config_utils import pretrain_cfg_options

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(ROOT, 'configs', 'genesis', 'genesis_resnet50_1xb32-coslr-200e_knee.py')
DENSECL = osp.join(ROOT, 'configs', 'densecl', 'r50_knee.py')


def test_same_data_and_schedule_length_as_densecl_and_the_papers_distortions():
    cfg, dense = Config.fromfile(CONFIG), Config.fromfile(DENSECL)
    assert cfg.default_scope == 'mmpretrain' and cfg.custom_imports.imports == ['mmssl_us.pretrain']
    assert cfg.model.type == 'ModelsGenesis'
    assert cfg.model.backbone.type == 'ResNetV1c' and cfg.model.backbone.depth == 50
    ours, theirs = cfg.train_dataloader.to_dict(), dense.train_dataloader.to_dict()
    ours['dataset'].pop('pipeline'), theirs['dataset'].pop('pipeline')
    assert ours == theirs  # same pool, exclusion, batch, sampler
    assert cfg.train_cfg == dense.train_cfg and cfg.train_cfg.max_epochs == 200
    assert cfg.param_scheduler == dense.param_scheduler
    assert cfg.data_preprocessor == dense.data_preprocessor
    assert cfg.optim_wrapper.optimizer == dict(type='Adam', lr=1e-4, weight_decay=0.0)
    steps = {t.type: t for t in cfg.train_dataloader.dataset.pipeline}
    order = [t.type for t in cfg.train_dataloader.dataset.pipeline]
    assert order == ['LoadUltrasoundFrame', 'SectorRandomResizedCrop', 'KeepRestorationTarget',
                     'GenesisFlip', 'LocalPixelShuffle', 'BezierIntensityMap',
                     'GenesisPainting', 'RepeatGreyChannels', 'PackInputs']
    assert steps['SectorRandomResizedCrop'] == dense.view_pipeline[0]
    assert (steps['GenesisFlip'].prob, steps['LocalPixelShuffle'].prob,
            steps['BezierIntensityMap'].prob, steps['GenesisPainting'].prob,
            steps['GenesisPainting'].outpaint_prob) == (0.4, 0.5, 0.9, 0.9, 0.8)
    assert steps['PackInputs'].algorithm_keys == ['gt_img']
    assert [h.type for h in cfg.custom_hooks] == ['SaveStartWeightsHook']


def test_shrink_keys_and_the_shrunk_model_builds():
    cfg = Config.fromfile(CONFIG)
    options = pretrain_cfg_options(cfg, depth=18, view_size=64, batch_size=4, max_epochs=1,
                                   num_workers=0, seed=2)
    assert options == {
        'model.backbone.depth': 18,
        'model.neck.in_channels': [64, 128, 256, 512],
        'train_dataloader.dataset.pipeline.1.scale': 64,
        'train_dataloader.batch_size': 4,
        'train_cfg.max_epochs': 1,
        'param_scheduler.0.end': 1,
        'param_scheduler.0.T_max': 1,
        'train_dataloader.num_workers': 0,
        'train_dataloader.persistent_workers': False,
        'randomness.seed': 2,
    }
    with pytest.raises(ValueError, match='no DenseCLHook.*leave warmup_iters out'):
        pretrain_cfg_options(cfg, warmup_iters=10)
    cfg.merge_from_dict(options)
    from mmpretrain.registry import MODELS
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        model = MODELS.build(cfg.model).eval()
    with torch.no_grad():
        out = model.reconstruct(torch.zeros(2, 3, 64, 64))
    assert out.shape == (2, 1, 64, 64)
    # without skips the decoder is fed the last stage only, and the shrink follows
    cfg = Config.fromfile(CONFIG)
    cfg.model.backbone.out_indices = (3, )
    assert pretrain_cfg_options(cfg, depth=34)['model.neck.in_channels'] == [512]


class _Losses(Hook):
    priority = 'LOWEST'

    def __init__(self):
        self.losses = []

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        self.losses.append(float(outputs['loss_restore'].detach()))


@pytest.mark.slow
@pytest.mark.usefixtures('cheap_config_text')
def test_two_iterations_write_a_checkpoint_that_converts(tmp_path, media):
    from mmengine.runner import Runner
    from mmseg.models.backbones import ResNetV1c

    from mmssl_us.checkpoint import safe_load
    from mmssl_us.transfer import convert_checkpoint
    data = tmp_path / 'data'
    (data / 'unlabelled' / 'a').mkdir(parents=True)
    for split in ('val', 'test'):  # the evaluation folders the pool excludes
        (data / 'images' / split).mkdir(parents=True)
    for i in range(9):  # batch 4, drop_last: 2 iterations
        media.image(data / 'unlabelled' / 'a' / f'p{i}_0.png', seed=i)
    cfg = Config.fromfile(CONFIG)
    cfg.merge_from_dict(pretrain_cfg_options(cfg, depth=18, view_size=64, batch_size=4,
                                             max_epochs=1, num_workers=0))
    cfg.merge_from_dict({'train_dataloader.dataset.data_root': str(data),
                         'default_hooks.checkpoint.interval': 1,
                         'default_hooks.logger.interval': 1})
    cfg.work_dir = str(tmp_path / 'work')
    cfg.env_cfg.dist_cfg = dict(backend='gloo')
    runner = Runner.from_cfg(cfg)
    recorder = _Losses()
    runner.register_hook(recorder)
    runner.train()
    assert len(recorder.losses) == 2 and all(0 < v < 1 for v in recorder.losses)
    work = tmp_path / 'work'
    ckpt = work / 'epoch_1.pth'
    start = safe_load(str(work / 'start_weights.pth'))
    state, meta = convert_checkpoint(str(ckpt), str(tmp_path / 'backbone.pth'), verify=True)
    assert meta['depth'] == 18 and meta['verified']
    seg = ResNetV1c(depth=18, in_channels=3)
    result = seg.load_state_dict(state, strict=False)
    assert result.missing_keys == [] and result.unexpected_keys == []
    trained = safe_load(str(ckpt))['state_dict']
    start = start.get('state_dict', start)
    key = 'backbone.layer1.0.conv1.weight'
    assert not torch.equal(trained[key], start[key])  # the encoder did train
