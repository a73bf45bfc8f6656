"""One image-reading rule for pretraining and fine-tuning (issue 19): the fine-tuning datasets
load with LoadUltrasoundFrame, so a colour export reaches the fine-tuned model as grey, exactly
as it reached its pretraining."""
import glob
import os.path as osp

import cv2
import numpy as np
import pytest
from mmengine.config import Config

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DATASETS = sorted(glob.glob(osp.join(ROOT, 'configs', '_base_', 'datasets', '*.py')))


def _colour_image(path):
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (24, 32, 3), dtype=np.uint8)
    img[4:10, 4:12] = (0, 0, 255)  # a red overlay mark
    cv2.imwrite(path, img)
    return img


def test_both_hosts_find_one_class():
    import mmssl_us.pretrain  # noqa: F401
    import mmssl_us.seg  # noqa: F401
    from mmengine.registry import TRANSFORMS as ROOT_TRANSFORMS
    from mmpretrain.registry import TRANSFORMS as PRETRAIN
    from mmseg.registry import TRANSFORMS as SEG
    from mmssl_us.transforms.loading import LoadUltrasoundFrame
    assert ROOT_TRANSFORMS.get('LoadUltrasoundFrame') is LoadUltrasoundFrame
    assert SEG.get('LoadUltrasoundFrame') is LoadUltrasoundFrame
    assert PRETRAIN.get('LoadUltrasoundFrame') is LoadUltrasoundFrame
    assert PRETRAIN.get('mmpretrain.LoadUltrasoundFrame') is LoadUltrasoundFrame


@pytest.mark.parametrize('path', DATASETS, ids=osp.basename)
def test_every_fine_tuning_dataset_reads_by_the_rule(path):
    cfg = Config.fromfile(path)
    for name in ('train_pipeline', 'test_pipeline'):
        assert cfg[name][0] == dict(type='LoadUltrasoundFrame', channels=3), (path, name)


def test_a_colour_image_is_grey_in_fine_tuning_as_in_pretraining(tmp_path):
    import mmssl_us.seg  # noqa: F401
    from mmcv.transforms import Compose
    from mmengine.registry import DefaultScope
    from mmssl_us.data.media import to_grey_uint8
    from mmssl_us.pretrain.datasets.loading import LoadUltrasoundFrame as PretrainLoader
    path = str(tmp_path / 'overlay.png')
    colour = _colour_image(path)
    cfg = Config.fromfile(osp.join(ROOT, 'configs', '_base_', 'datasets', 'folder.py'))
    with DefaultScope.overwrite_default_scope('mmseg'):
        finetune = Compose(cfg.test_pipeline[:1])(dict(img_path=path))['img']
        mmcv_loader = Compose([dict(type='LoadImageFromFile')])(dict(img_path=path))['img']
    pretrain = PretrainLoader(channels=3)(dict(img_path=path))['img']
    np.testing.assert_array_equal(finetune, pretrain)
    assert finetune.shape == (24, 32, 3) and finetune.dtype == np.uint8
    assert (finetune[..., 0] == finetune[..., 1]).all() and (finetune[..., 1] ==
                                                              finetune[..., 2]).all()
    np.testing.assert_array_equal(finetune[..., 0], to_grey_uint8(colour, path))
    assert not np.array_equal(mmcv_loader, finetune)  # mmcv's loader kept the colours


def test_a_decoded_frame_is_read_as_its_file(tmp_path):
    from mmssl_us.transforms.loading import LoadUltrasoundFrame
    path = str(tmp_path / 'frame.png')
    colour = _colour_image(path)
    loader = LoadUltrasoundFrame(channels=3)
    from_file = loader(dict(img_path=path))
    from_array = loader(dict(img=colour.copy()))
    np.testing.assert_array_equal(from_array['img'], from_file['img'])
    assert from_array['img_shape'] == from_array['ori_shape'] == (24, 32)
