"""Both hosts build a full pipeline of our transforms from config dicts."""
import cv2
import numpy as np
import pytest
from mmengine.registry import DefaultScope, init_default_scope

import mmssl_us.transforms  # noqa: F401  (registers the transforms)
from mmssl_us.transforms import draw_footprint
from .conftest import textured

US_AUGMENTS = [
    dict(type='SpeckleNoise', sigma=(0.05, 0.3), prob=1.0),
    dict(type='DepthAttenuation', prob=1.0),
    dict(type='TGCCurve', prob=1.0),
    dict(type='AcousticShadow', prob=1.0),
    dict(type='LogCompression', prob=1.0),
    dict(type='GainChange', prob=1.0),
    dict(type='AnisotropicPSFBlur', prob=1.0),
]


@pytest.fixture(autouse=True)
def _restore_default_scope():
    """``init_default_scope`` sets a process-wide scope: restore it after each test."""
    with DefaultScope.overwrite_default_scope('mmengine'):
        yield


@pytest.fixture
def files(tmp_path):
    truth = draw_footprint('convex', (90, 120))
    img_path, seg_path = tmp_path / 'frame.png', tmp_path / 'frame_mask.png'
    cv2.imwrite(str(img_path), textured(truth, seed=5))
    seg = np.zeros((90, 120), np.uint8)
    seg[40:70, 40:90] = 1
    cv2.imwrite(str(seg_path), seg)
    return str(img_path), str(seg_path)


def test_mmpretrain_builds_the_pipeline(files):
    from mmcv.transforms import Compose
    from mmpretrain.registry import TRANSFORMS
    init_default_scope('mmpretrain')
    assert DefaultScope.get_current_instance().scope_name == 'mmpretrain'
    view = [dict(type='SectorRandomResizedCrop', scale=32, crop_ratio_range=(0.2, 1.0)),
            dict(type='RandomFlip', prob=0.5)] + US_AUGMENTS
    pipeline = Compose([
        TRANSFORMS.build(dict(type='LoadImageFromFile')),
        TRANSFORMS.build(dict(type='MultiView', num_views=2, transforms=[view])),
        TRANSFORMS.build(dict(type='PackInputs')),
    ])
    multi = pipeline.transforms[1].pipelines[0].transforms
    names = [type(t).__name__ for t in multi]
    assert names[0] == 'SectorRandomResizedCrop' and 'SpeckleNoise' in names
    np.random.seed(0)
    out = pipeline(dict(img_path=files[0]))
    views = out['inputs']
    assert len(views) == 2 and tuple(views[0].shape) == (3, 32, 32)
    assert not np.array_equal(views[0].numpy(), views[1].numpy())


def test_mmseg_builds_the_pipeline(files):
    from mmcv.transforms import Compose
    from mmseg.registry import TRANSFORMS
    init_default_scope('mmseg')
    assert DefaultScope.get_current_instance().scope_name == 'mmseg'
    cfg = [dict(type='LoadImageFromFile'),
           dict(type='LoadAnnotations'),
           dict(type='SectorRandomResizedCrop', scale=(48, 64), crop_ratio_range=(0.3, 1.0)),
           dict(type='RandomFlip', prob=0.5)] + US_AUGMENTS + [dict(type='PackSegInputs')]
    pipeline = Compose([TRANSFORMS.build(c) for c in cfg])
    np.random.seed(1)
    out = pipeline(dict(img_path=files[0], seg_map_path=files[1], reduce_zero_label=False,
                        seg_fields=[]))
    assert tuple(out['inputs'].shape) == (3, 48, 64)
    seg = out['data_samples'].gt_sem_seg.data.numpy()
    assert seg.shape == (1, 48, 64) and set(np.unique(seg)) <= {0, 1}
