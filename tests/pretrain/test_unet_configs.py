"""The UNet-encoder pretraining configs (SimCLR, SimCLR with clip pairs, BYOL, DenseCL): each
parses, builds its model at full size, and at a tiny size takes one loss step on samples that
its own dataset and pipeline make from a clip pool."""
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = {'simclr': 'configs/simclr/simclr_unet-s5_1xb32-coslr-200e_echonet.py',
           'simclr-clip': 'configs/simclr/simclr_unet-s5-clip_1xb32-coslr-200e_echonet.py',
           'byol': 'configs/byol/byol_unet-s5_1xb32-coslr-200e_echonet.py',
           'densecl': 'configs/densecl/densecl_unet-s5_1xb32-coslr-200e_echonet.py'}


@pytest.mark.parametrize('name', sorted(CONFIGS))
def test_unet_config_builds_and_takes_a_step_on_its_pipeline(name, tmp_path, media):
    from mmengine.dataset import default_collate
    from mmpretrain.registry import DATASETS, MODELS

    import mmssl_us.pretrain  # noqa: F401
    cfg = Config.fromfile(osp.join(ROOT, CONFIGS[name]))
    assert cfg.model.backbone.type == 'UNetEncoder' and cfg.model.backbone.out_indices == (4, )
    assert cfg.model.neck.in_channels == 64 * 16
    assert cfg.train_dataloader.dataset.data_root == 'data/echonet'
    assert cfg.train_dataloader.dataset.exclude == ['images/val', 'images/test']
    clip = cfg.train_dataloader.dataset.get('clip_pairs')
    assert (clip == 4) if name == 'simclr-clip' else clip is None
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        full = MODELS.build(dict(cfg.model, data_preprocessor=cfg.data_preprocessor))
    assert sum(p.numel() for p in full.backbone.parameters()) > 18e6  # mmseg's UNet-S5 encoder
    # tiny: base 4 (neck input 64), 32 px views, a pool of two clips
    (tmp_path / 'images' / 'val').mkdir(parents=True)
    (tmp_path / 'images' / 'test').mkdir()
    for i in range(2):
        media.avi(tmp_path / 'unlabelled' / f'P{i}.avi',
                  [np.random.default_rng([i, f]).integers(0, 255, (48, 48)).astype(np.uint8)
                   for f in range(6)])
    cfg.merge_from_dict({'model.backbone.base_channels': 4, 'model.neck.in_channels': 64,
                         'model.neck.hid_channels': 32})
    if name == 'densecl':
        cfg.merge_from_dict({'model.queue_len': 8})
    pipeline = cfg.train_dataloader.dataset.pipeline
    views = pipeline[1]['transforms'][0]
    views[0]['scale'] = 32  # the sector crop
    ds_cfg = dict(cfg.train_dataloader.dataset, data_root=str(tmp_path))
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        dataset = DATASETS.build(ds_cfg)
        model = MODELS.build(dict(cfg.model, data_preprocessor=cfg.data_preprocessor))
    model.init_weights()
    np.random.seed(0)
    batch = default_collate([dataset[i] for i in range(4)])
    assert len(batch['inputs']) == 2 and batch['inputs'][0].shape == (4, 3, 32, 32)
    if name == 'simclr-clip':  # the views came from two frames of one clip
        info = [dataset.get_data_info(i) for i in range(4)]
        assert all('pair_distance' in d for d in info)
    model.train()
    losses = model(**model.data_preprocessor(batch, training=True), mode='loss')
    loss = sum(v for k, v in losses.items() if 'loss' in k)
    loss.backward()
    assert torch.isfinite(loss)
    assert model.backbone.encoder[4][1].convs[0].conv.weight.grad.abs().sum() > 0
    # and its checkpoint crosses to mmseg's UNet, verified (SplitBatchNorm2d included)
    from mmssl_us.transfer import convert_checkpoint
    src = str(tmp_path / 'epoch_1.pth')
    torch.save({'state_dict': model.state_dict()}, src)
    _, meta = convert_checkpoint(src, str(tmp_path / 'backbone.pth'), 'unet', verify=True)
    assert meta['base_channels'] == 4 and meta['allowed_missing'] == 'decoder.*'
    assert '5 outputs equal' in meta['verified']
