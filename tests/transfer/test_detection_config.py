"""configs/faster_rcnn/faster-rcnn_r50-densecl_fpn_1x_ultrasound-coco.py: mmdet builds the whole
detector from it, VerifiedPretrained loads a converted DenseCL backbone into it key for key (and
nothing re-initialises it), and two training iterations run on a tiny generated COCO dataset."""
import json
import os.path as osp

import cv2
import numpy as np
import pytest
import torch

pytest.importorskip('mmdet')

from mmengine.config import Config  # noqa: E402
from mmengine.hooks import Hook  # noqa: E402

from mmssl_us.transfer import convert_checkpoint  # noqa: E402
from mmssl_us.transfer.init import CheckpointKeyError  # noqa: E402

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(ROOT, 'configs', 'faster_rcnn',
                  'faster-rcnn_r50-densecl_fpn_1x_ultrasound-coco.py')


def write_coco(root, n=2, size=96):
    """``n`` grey images with one bright ellipse each, and their COCO json (one class)."""
    rng = np.random.default_rng(0)
    images, annotations = [], []
    (root / 'images' / 'train').mkdir(parents=True)
    (root / 'annotations').mkdir()
    for i in range(n):
        img = rng.integers(0, 40, (size, size), dtype=np.uint8)
        cx, cy, ax, ay = (int(v) for v in rng.integers([30, 30, 10, 8], [66, 66, 22, 18]))
        cv2.ellipse(img, (cx, cy), (ax, ay), 0, 0, 360, 220, -1)
        assert cv2.imwrite(str(root / 'images' / 'train' / f'{i}.png'), img)
        images.append(dict(id=i, file_name=f'{i}.png', width=size, height=size))
        annotations.append(dict(id=i, image_id=i, category_id=1, iscrowd=0, area=4 * ax * ay,
                                bbox=[cx - ax, cy - ay, 2 * ax, 2 * ay]))
    coco = dict(images=images, annotations=annotations,
                categories=[dict(id=1, name='lesion')])
    (root / 'annotations' / 'train.json').write_text(json.dumps(coco))


@pytest.fixture
def backbone_file(tmp_path, build_model):
    """A tiny DenseCL (7x7-stem ResNet-18) checkpoint converted with --target mmdet."""
    torch.manual_seed(0)
    model = build_model(backbone=dict(type='ResNet', depth=18, out_indices=(3, ),
                                      norm_cfg=dict(type='BN')))
    with torch.no_grad():  # BN no longer at its default init (1, 0, 0, 1)
        for key, t in model.backbone.state_dict().items():
            if t.dtype.is_floating_point and t.dim() == 1:
                t.add_(torch.rand_like(t) * 0.1)
    src = str(tmp_path / 'epoch_1.pth')
    torch.save({'state_dict': model.state_dict(), 'meta': {'epoch': 1}}, src)
    dst = str(tmp_path / 'backbone_mmdet.pth')
    state, meta = convert_checkpoint(src, dst, target='mmdet', verify=True)
    assert meta['backbone'] == "dict(type='ResNet', depth=18)"
    return dst, state


def _tiny(cfg, tmp_path, checkpoint):
    cfg.work_dir = str(tmp_path / 'work')
    cfg.model.backbone.update(depth=18)
    cfg.model.backbone.init_cfg.checkpoint = checkpoint
    cfg.model.neck.in_channels = [64, 128, 256, 512]
    loader = cfg.train_dataloader
    loader.update(batch_size=1, num_workers=0, persistent_workers=False)
    loader.dataset.data_root = str(tmp_path / 'data')
    loader.dataset.pipeline[2].scale = (96, 96)
    cfg.train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=1, val_interval=10)
    for key in ('val_dataloader', 'val_cfg', 'val_evaluator', 'test_dataloader', 'test_cfg',
                'test_evaluator'):
        cfg[key] = None
    cfg.default_hooks.logger.interval = 1
    cfg.env_cfg.dist_cfg = dict(backend='gloo')
    return cfg


def test_config_is_as_documented():
    cfg = Config.fromfile(CONFIG)
    assert cfg.default_scope == 'mmdet'
    assert cfg.custom_imports.imports == ['mmssl_us.transfer.init']
    assert cfg.model.backbone.type == 'ResNet' and cfg.model.backbone.depth == 50
    assert cfg.model.backbone.init_cfg == dict(type='VerifiedPretrained',
                                               checkpoint=cfg.backbone_checkpoint)
    assert cfg.model.data_preprocessor.mean == [40.0] * 3
    assert cfg.model.data_preprocessor.std == [44.0] * 3
    assert not cfg.model.data_preprocessor.bgr_to_rgb
    assert cfg.model.roi_head.bbox_head.num_classes == len(cfg.classes) == 1


@pytest.mark.slow
def test_detector_builds_loads_and_trains_two_iterations(tmp_path, backbone_file):
    from mmengine.runner import Runner
    write_coco(tmp_path / 'data')
    path, state = backbone_file
    cfg = _tiny(Config.fromfile(CONFIG), tmp_path, path)
    seen = {}

    class _Check(Hook):
        priority = 'HIGHEST'

        def before_train(self, runner):
            own = runner.model.backbone.state_dict()
            seen['keys'] = set(own) == set(state)
            seen['differ'] = [k for k, v in state.items() if not torch.equal(own[k], v)]

        def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
            seen.setdefault('losses', []).append(float(outputs['loss'].detach()))

    runner = Runner.from_cfg(cfg)
    runner.register_hook(_Check())
    runner.train()
    assert seen['keys'] and seen['differ'] == []  # 0 missing, 0 unexpected, all equal
    assert len(seen['losses']) == 2 and all(np.isfinite(seen['losses']))
    own = runner.model.backbone.state_dict()
    # frozen_stages=1: the pretrained stem stays as loaded; a later stage was trained
    assert torch.equal(own['conv1.weight'], state['conv1.weight'])
    assert not torch.equal(own['layer4.1.conv2.weight'], state['layer4.1.conv2.weight'])


def test_deep_stem_file_in_the_plain_config_fails_loudly(tmp_path, build_model):
    from mmdet.registry import MODELS
    from mmengine.registry import DefaultScope
    model = build_model()  # ResNetV1c-18
    src = str(tmp_path / 'deep.pth')
    torch.save({'state_dict': model.state_dict()}, src)
    dst = str(tmp_path / 'deep_mmdet.pth')
    convert_checkpoint(src, dst, target='mmdet')
    cfg = _tiny(Config.fromfile(CONFIG), tmp_path, dst)
    with DefaultScope.overwrite_default_scope('mmdet'):
        detector = MODELS.build(cfg.model)
    with pytest.raises(CheckpointKeyError, match=r'converted for mmdet.*deep_stem=True'):
        detector.init_weights()
    cfg.model.backbone.deep_stem = True  # what the error says: then it loads
    with DefaultScope.overwrite_default_scope('mmdet'):
        detector = MODELS.build(cfg.model)
    detector.init_weights()
    assert torch.equal(detector.backbone.stem[0].weight, model.backbone.stem[0].conv.weight)
