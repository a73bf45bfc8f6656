"""t-SNE of dense features with a tiny mmseg ResNetV1c-18 (random weights) on synthetic images."""
import os.path as osp

import numpy as np
import pytest
import torch

from mmssl_us.study import tsne

CFG = """
default_scope = 'mmseg'
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    type='EncoderDecoder',
    data_preprocessor=dict(type='SegDataPreProcessor', mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375], bgr_to_rgb=True, pad_val=0,
                           seg_pad_val=255),
    backbone=dict(type='ResNetV1c', depth=18, strides=(1, 2, 1, 1), dilations=(1, 1, 2, 4),
                  out_indices=(0, 1, 2, 3), norm_cfg=norm_cfg),
    decode_head=dict(type='FCNHead', in_channels=512, in_index=3, channels=16, num_convs=1,
                     num_classes=2, norm_cfg=norm_cfg,
                     loss_decode=dict(type='CrossEntropyLoss', avg_non_ignore=True)),
    train_cfg=dict(), test_cfg=dict(mode='whole'))
"""


def _samples(n=4, size=64):
    """Speckle-like background (class 0) with one bright disc (class 1) per image."""
    rng = np.random.default_rng(0)
    out = []
    yy, xx = np.mgrid[:size, :size]
    for i in range(n):
        cy, cx, r = 20 + 6 * i, 40 - 5 * i, 14
        mask = ((yy - cy) ** 2 + (xx - cx) ** 2 <= r * r).astype(np.uint8)
        img = rng.rayleigh(30, (size, size)) + 120 * mask
        out.append((np.clip(img, 0, 255).astype(np.uint8), mask))
    return out


@pytest.fixture()
def cfg_path(tmp_path):
    path = tmp_path / 'tiny_fcn.py'
    path.write_text(CFG)
    return str(path)


def _save(cfg_path, path, seed, backbone_only=False):
    torch.manual_seed(seed)
    model = tsne.build_model(cfg_path)
    sd = model.backbone.state_dict() if backbone_only else dict(state_dict=model.state_dict())
    torch.save(sd, path)
    return model


def test_cell_classes_and_sampling():
    mask = np.array([[0, 0, 1, 1], [0, 1, 1, 1], [255, 255, 2, 0], [255, 255, 2, 2]])
    np.testing.assert_array_equal(tsne.cell_classes(mask, 2, 2), [0, 1, -1, 2])
    tie = np.array([[0, 1]])  # one cell, one pixel each: the lower class wins
    np.testing.assert_array_equal(tsne.cell_classes(tie, 1, 1), [0])
    classes = np.array([0] * 14 + [1, 1] + [-1] * 4)
    pick = tsne.sample_cells(classes, 4, np.random.default_rng(0))
    assert len(pick) == 4 and {14, 15} <= set(pick) and (classes[pick] >= 0).all()
    assert len(tsne.sample_cells(classes, 100, np.random.default_rng(0))) == 16


def test_knn_accuracy_by_hand_and_against_sklearn():
    # 1-NN by hand: 2.3 (class 1) sees 1.1 (class 0), 3.6 (class 0) sees 2.3 (class 1)
    x = np.array([[0.0], [1.1], [2.3], [3.6], [10.0], [11.5]])
    y = np.array([0, 0, 1, 0, 1, 1])
    assert tsne.knn_accuracy(x, y, k=1) == pytest.approx(2 / 3)
    assert tsne.knn_accuracy(x, np.zeros(6, int), k=1) is None
    with pytest.raises(ValueError, match='6'):
        tsne.knn_accuracy(x, y, k=6)
    from sklearn.metrics import balanced_accuracy_score
    from sklearn.model_selection import LeaveOneOut, cross_val_predict
    from sklearn.neighbors import KNeighborsClassifier
    rng = np.random.default_rng(3)
    x = rng.normal(size=(60, 4))
    y = (x[:, 0] + 0.8 * rng.normal(size=60) > 0.5).astype(int)  # odd k, 2 classes: no ties
    ref = cross_val_predict(KNeighborsClassifier(5), x, y, cv=LeaveOneOut())
    assert tsne.knn_accuracy(x, y, k=5) == pytest.approx(balanced_accuracy_score(y, ref))


def test_load_full_and_backbone_only(cfg_path, tmp_path):
    ref = _save(cfg_path, tmp_path / 'full.pth', seed=1)
    _save(cfg_path, tmp_path / 'bb.pth', seed=1, backbone_only=True)
    n_head = sum(not k.startswith('backbone.') for k in ref.state_dict())
    for name, kind, ignored in (('full.pth', 'full', n_head), ('bb.pth', 'backbone', 0)):
        torch.manual_seed(2)
        model = tsne.build_model(cfg_path)
        rep = tsne.load_backbone(model, str(tmp_path / name))
        assert (rep.kind, rep.missing, rep.unexpected, rep.ignored) == (kind, [], [], ignored)
        assert rep.loaded == len(ref.backbone.state_dict())
        for k, v in ref.backbone.state_dict().items():
            assert torch.equal(model.backbone.state_dict()[k], v), k


def test_pretraining_config_is_refused(tmp_path):
    path = tmp_path / 'pretrain.py'
    path.write_text(CFG.replace("default_scope = 'mmseg'", "default_scope = 'mmpretrain'"))
    with pytest.raises(ValueError, match="'mmpretrain'"):
        tsne.build_model(str(path))


def test_bad_checkpoints_are_refused(cfg_path, tmp_path):
    model = tsne.build_model(cfg_path)
    sd = model.backbone.state_dict()
    torch.save({f'encoder.{k}': v for k, v in sd.items()}, tmp_path / 'renamed.pth')
    with pytest.raises(ValueError, match='renamed.pth.*none of its keys'):
        tsne.load_backbone(model, str(tmp_path / 'renamed.pth'))
    torch.save({k: v for k, v in sd.items() if not k.startswith('layer4')}, tmp_path / 'part.pth')
    with pytest.raises(ValueError, match=r'part.pth: \d+ backbone keys missing'):
        tsne.load_backbone(model, str(tmp_path / 'part.pth'))
    rep = tsne.load_backbone(model, str(tmp_path / 'part.pth'), allow_missing=True)
    assert rep.missing and all(k.startswith('layer4') for k in rep.missing)


@pytest.mark.slow
def test_panels_and_determinism(cfg_path, tmp_path):
    _save(cfg_path, tmp_path / 'seed0.pth', seed=0)  # the weights 'none' builds under seed 0
    _save(cfg_path, tmp_path / 'seed5.pth', seed=5, backbone_only=True)
    ckpts = ['none', str(tmp_path / 'seed0.pth'), str(tmp_path / 'seed5.pth')]
    labels = ['random', 'same weights', 'other weights']
    samples = _samples()
    embs = tsne.embed_checkpoints(cfg_path, ckpts, labels, samples, points_per_image=16, seed=0)
    again = tsne.embed_checkpoints(cfg_path, ckpts[:1], labels[:1], samples, 16, seed=0)
    assert [e.label for e in embs] == labels
    assert all(len(e.xy) == 4 * 16 and set(np.unique(e.classes)) == {0, 1} for e in embs)
    assert np.bincount(embs[0].classes).min() >= 16  # balanced: each image gives both classes
    np.testing.assert_array_equal(embs[0].xy, again[0].xy)  # deterministic under the seed
    np.testing.assert_allclose(embs[1].xy, embs[0].xy)  # loading the same weights changes nothing
    assert embs[1].knn_accuracy == embs[0].knn_accuracy
    assert not np.allclose(embs[2].xy, embs[0].xy)  # other weights, other picture
    fig = tsne.save_figure(embs, str(tmp_path / 'tsne.png'), 'class', ['background', 'recess'])
    assert len(fig.axes) == len(ckpts)
    assert [ax.get_title().split('\n')[0] for ax in fig.axes] == labels
    assert osp.getsize(tmp_path / 'tsne.png') > 10_000
    fig = tsne.save_figure(embs[:2], str(tmp_path / 'by_image.png'), 'image')
    assert len(fig.axes) == 2
    with pytest.raises(ValueError, match='labels'):
        tsne.embed_checkpoints(cfg_path, ckpts, labels[:2], samples)


def test_title_fits_one_panel(tmp_path):
    """One backbone gives one 4.2-inch panel, narrower than the figure's title: the title must
    lie inside the figure (unwrapped it ran 6.6 px past each edge coloured by class and 73.5 px
    coloured by image)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    rng = np.random.default_rng(0)
    emb = tsne.Embedding('random', rng.normal(size=(40, 2)), np.repeat([0, 1], 20),
                         np.repeat(np.arange(4), 10), 0.9, None, 5)
    for n in (1, 2):
        for color in ('class', 'image'):
            fig = tsne.save_figure([emb] * n, str(tmp_path / f'{n}{color}.png'), color)
            box = fig._suptitle.get_window_extent(FigureCanvasAgg(fig).get_renderer())
            width = fig.get_figwidth() * fig.dpi
            assert box.x0 >= 0 and box.x1 <= width, (n, color, box.x0, box.x1, width)


def _dataset(tmp_path, n=5):
    import cv2
    root = tmp_path / 'knee'
    for sub in ('images/test', 'masks/test'):
        (root / sub).mkdir(parents=True)
    for i, (img, mask) in enumerate(_samples(n)):
        cv2.imwrite(str(root / 'images/test' / f'p{i}_0.png'), img)
        cv2.imwrite(str(root / 'masks/test' / f'p{i}_0.png'), mask)
    cfg = tmp_path / 'fcn_folder.py'
    cfg.write_text(CFG + f"""
test_pipeline = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'),
                 dict(type='PackSegInputs')]
test_dataloader = dict(batch_size=1, num_workers=0, dataset=dict(
    type='BaseSegDataset', data_root={str(root)!r}, img_suffix='.png', seg_map_suffix='.png',
    data_prefix=dict(img_path='images/test', seg_map_path='masks/test'),
    metainfo=dict(classes=('background', 'recess'), palette=[[0, 0, 0], [255, 0, 0]]),
    pipeline=test_pipeline))
""")
    return str(cfg)


def test_load_samples_reads_split_evenly(tmp_path):
    cfg = _dataset(tmp_path)
    samples, classes = tsne.load_samples(cfg, 'test', max_images=3)
    assert classes == ['background', 'recess'] and len(samples) == 3
    truth = _samples(5)
    for (img, mask), k in zip(samples, (0, 2, 4)):  # spread over the 5 files, in order
        np.testing.assert_array_equal(mask, truth[k][1])
        assert img.shape == (64, 64, 3) and (img == truth[k][0][..., None]).all()
    with pytest.raises(ValueError, match="'val'"):
        tsne.load_samples(cfg, 'val')


@pytest.mark.slow
def test_cli_end_to_end(tmp_path, capsys):
    import importlib.util as iu
    spec = iu.spec_from_file_location(
        'tsne_cli', osp.join(osp.dirname(__file__), '..', '..', 'tools', 'analysis', 'tsne.py'))
    cli = iu.module_from_spec(spec)
    spec.loader.exec_module(cli)
    cfg = _dataset(tmp_path)
    _save(cfg, tmp_path / 'bb.pth', seed=3, backbone_only=True)
    out = tmp_path / 'tsne.png'
    assert cli.main([cfg, 'none', str(tmp_path / 'bb.pth'), '--labels', 'random', 'other',
                     '--out', str(out), '--max-images', '4', '--points-per-image', '8']) == 0
    text = capsys.readouterr().out
    assert '4 test images, 32 points each panel' in text
    assert 'other: backbone checkpoint' in text and ', 0 missing [],' in text
    assert text.count('5-NN leave-one-out balanced class accuracy 0.') + \
        text.count('5-NN leave-one-out balanced class accuracy 1.000') == 2
    assert out.stat().st_size > 10_000
