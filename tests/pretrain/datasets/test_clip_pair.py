"""Clip-pair positives (USCL): the two views of a sample from two frames of one clip within the
distance, or two images of one patient; one-frame clips fall back to two views of the frame."""
import numpy as np
import pytest
from mmengine.registry import DefaultScope

from mmssl_us.pretrain.datasets import (ClipPairMultiView, LoadClipPair,
                                        UltrasoundUnlabelledDataset)


def _level_frames(n, start=20):
    """Frame i is a flat grey of 20 + 10 i: the decoded level tells which frame it is."""
    return [np.full((32, 32), start + 10 * i, np.uint8) for i in range(n)]


def _frame_of(img, start=20):
    return int(round((float(img.mean()) - start) / 10))


@pytest.fixture
def pool(tmp_path, media):
    media.avi(tmp_path / 'unlabelled' / 'P01.avi', _level_frames(12))
    media.avi(tmp_path / 'unlabelled' / 'P02.avi', _level_frames(1, start=200))
    media.image(tmp_path / 'unlabelled' / 'P03_a.png', 1)
    media.image(tmp_path / 'unlabelled' / 'P03_b.png', 2)
    media.image(tmp_path / 'unlabelled' / 'P04_a.png', 3)
    return tmp_path


def _dataset(root, distance, **kw):
    return UltrasoundUnlabelledDataset(data_root=str(root), data_prefix='unlabelled',
                                       clip_pairs=distance, **kw)


@pytest.mark.parametrize('distance', [1, 3])
def test_both_views_from_one_clip_within_distance(pool, distance):
    ds = _dataset(pool, distance)
    load = LoadClipPair(channels=1)
    seen = set()
    for d in (ds.get_data_info(i) for i in range(len(ds))):
        if d['frame_index'] is None or 'P01' not in d['img_path']:
            continue
        for _ in range(6):
            out = load(dict(d))
            i, j = d['frame_index'], out['pair_frame_index']
            assert out['pair_path'] == d['img_path']  # the same clip
            assert 1 <= abs(i - j) <= distance
            assert _frame_of(out['img']) == i and _frame_of(out['pair_img']) == j
            seen.add(j - i)
    assert seen == {d for d in range(-distance, distance + 1) if d}  # every offset drawn


def test_pairs_are_seeded(pool):
    ds = _dataset(pool, 4)
    infos = [ds.get_data_info(i) for i in range(len(ds))]
    load = LoadClipPair()

    def draws(seed):
        np.random.seed(seed)
        return [load(dict(d))['pair_frame_index'] for d in infos if d['frame_index'] is not None]

    assert draws(0) == draws(0)
    assert draws(0) != draws(1)


def test_one_frame_clip_and_lonely_image_fall_back(pool):
    ds = _dataset(pool, 2)
    load = LoadClipPair()
    infos = {(d['img_path'].rsplit('/', 1)[1], d['frame_index']): d
             for d in (ds.get_data_info(i) for i in range(len(ds)))}
    one = load(dict(infos[('P02.avi', 0)]))
    assert one['pair_frame_index'] == 0 and np.array_equal(one['img'], one['pair_img'])
    lonely = load(dict(infos[('P04_a.png', None)]))
    assert lonely['pair_path'] == lonely['img_path']
    # a still image's partner is the other image of its patient
    other = load(dict(infos[('P03_a.png', None)]))
    assert other['pair_path'].endswith('P03_b.png')
    # two crops of the one frame: ClipPairMultiView makes two different views of it
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        views = ClipPairMultiView(
            transforms=[[dict(type='RandomResizedCrop', scale=16, crop_ratio_range=(0.2, 0.5))]])
    np.random.seed(0)
    out = views(load(dict(infos[('P04_a.png', None)])))
    assert len(out['img']) == 2 and 'pair_img' not in out
    assert out['img'][0].shape == out['img'][1].shape == (16, 16)
    assert not np.array_equal(out['img'][0], out['img'][1])


def test_second_view_is_the_partner_frame(pool):
    ds = _dataset(pool, 5)
    d = next(ds.get_data_info(i) for i in range(len(ds))
             if ds.get_data_info(i)['frame_index'] == 6)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        views = ClipPairMultiView(transforms=[[dict(type='RepeatGreyChannels', channels=3)]])
    loaded = LoadClipPair()(dict(d))
    j = loaded['pair_frame_index']
    out = views(loaded)
    assert _frame_of(out['img'][0]) == 6 and _frame_of(out['img'][1]) == j != 6
    assert out['img'][1].shape == (32, 32, 3)


@pytest.mark.parametrize('distance, match', [
    (0, r'clip_pairs \(the largest frame distance of a pair\).*0'),
    (-2, r'-2'),
    (13, r'clip_pairs=13: .*more than the longest clip .*P01.avi: 12 frames'),
])
def test_bad_distance_refused_with_the_value(pool, distance, match):
    with pytest.raises(ValueError, match=match):
        _dataset(pool, distance)


def test_without_clip_pairs_the_loader_says_what_to_set(pool):
    ds = UltrasoundUnlabelledDataset(data_root=str(pool), data_prefix='unlabelled')
    with pytest.raises(ValueError, match=r'clip_pairs=K'):
        LoadClipPair()(dict(ds.get_data_info(0)))
    with pytest.raises(ValueError, match='exactly 2 views'):
        ClipPairMultiView(transforms=[[]], num_views=3)


@pytest.mark.parametrize('config', ['simclr/simclr_resnet50_1xb32-coslr-200e_knee.py',
                                    'byol/byol_resnet50_1xb32-coslr-200e_knee.py',
                                    'mocov2/mocov2_resnet50_1xb32-coslr-200e_knee.py',
                                    'densecl/r50_knee.py'])
def test_every_two_view_method_takes_clip_pairs(config, tmp_path, media):
    """The four methods' own configs, their pipeline switched to the clip-pair loader and
    views (as configs/_base_/pretrain/echonet_unlabelled.py does), take a loss step."""
    import os.path as osp

    import torch
    from mmengine.config import Config
    from mmengine.dataset import default_collate
    from mmpretrain.registry import DATASETS, MODELS

    from mmssl_us.pretrain.config_utils import pretrain_cfg_options
    root = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
    cfg = Config.fromfile(osp.join(root, 'configs', config))
    cfg.merge_from_dict(pretrain_cfg_options(cfg, depth=18, view_size=32))
    if 'queue_len' in cfg.model:
        cfg.model.queue_len = 8
    media.avi(tmp_path / 'unlabelled' / 'P01.avi', _level_frames(10))
    pipeline = cfg.train_dataloader.dataset.pipeline
    views = pipeline[1]['transforms']
    ds_cfg = dict(cfg.train_dataloader.dataset, data_root=str(tmp_path), exclude=[],
                  clip_pairs=2, pipeline=[dict(type='LoadClipPair', channels=1),
                                          dict(type='ClipPairMultiView', transforms=views),
                                          pipeline[-1]])
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        dataset = DATASETS.build(ds_cfg)
        model = MODELS.build(dict(cfg.model, data_preprocessor=cfg.data_preprocessor))
    model.init_weights()
    np.random.seed(0)
    batch = default_collate([dataset[i] for i in range(4)])
    model.train()
    losses = model(**model.data_preprocessor(batch, training=True), mode='loss')
    loss = sum(v for k, v in losses.items() if 'loss' in k)
    loss.backward()
    assert torch.isfinite(loss)
