"""tools/infer.py's logic (mmssl_us.seg.inference): masks, overlays, summary, HC, refusals."""
import csv
import os.path as osp
import subprocess
import sys

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

from mmssl_us.data.media import to_grey_uint8
from mmseg.registry import MODELS

from data._helpers import write_mjpg_avi  # tests/data/_helpers.py
from mmssl_us.checkpoint import CorruptCheckpointError
from mmssl_us.config_utils import format_cfg_options
from mmssl_us.seg.config_utils import seg_cfg_options
from mmssl_us.seg.inference import (SegInferencer, list_inputs, main, overlay_mask,
                                    run_inference)
from mmssl_us.seg.metrics.ellipse import mask_circumference, ramanujan_circumference

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
KNEE = osp.join(ROOT, 'configs', 'fcn', 'fcn_r50-d8-random_1xb16-40k_knee-256x256.py')
HC18 = osp.join(ROOT, 'configs', 'fcn', 'fcn_r50-d8-random_1xb16-40k_hc18-256x256.py')
KNEE_PALETTE_BGR = np.array([0, 200, 255], np.float32)  # KneeRecessDataset: recess RGB 255,200,0


def _tiny(config):
    cfg = Config.fromfile(config)
    return seg_cfg_options(cfg, img_scale=32, depth=18, head_channels=8)


def _save_checkpoint(config, options, path, meta=None):
    cfg = Config.fromfile(config)
    cfg.merge_from_dict(options)
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmseg'):  # also from the module fixture
        model = MODELS.build(cfg.model)
    torch.save({'state_dict': model.state_dict(), 'meta': meta or {}}, str(path))
    return str(path)


def _grey(h, w, seed):
    rng = np.random.default_rng(seed)
    img = rng.integers(0, 60, (h, w)).astype(np.uint8)
    cv2.circle(img, (w // 2, h // 2), min(h, w) // 4, 200, -1)
    return img


def _balance(inferencer, image_path):
    """Shift the class-1 bias of the random head so that both classes are predicted."""
    conv = inferencer.model.decode_head.conv_seg
    seen = []
    handle = conv.register_forward_hook(lambda m, i, o: seen.append(o.detach()))
    inferencer.predict_file(image_path)
    handle.remove()
    diff = seen[0][:, 1] - seen[0][:, 0]
    with torch.no_grad():
        conv.bias[1] -= diff.median()


def _rows(out):
    with open(osp.join(out, 'summary.csv'), newline='') as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope='module')
def knee_model(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('knee_model')
    options = _tiny(KNEE)
    ckpt = _save_checkpoint(KNEE, options, tmp / 'tiny.pth')
    return ckpt, options


@pytest.mark.slow
def test_folder_of_images_and_a_video(tmp_path, knee_model, capsys):
    ckpt, options = knee_model
    src = tmp_path / 'in'
    (src / 'sub').mkdir(parents=True)
    cv2.imwrite(str(src / 'a.png'), _grey(48, 64, 0))
    cv2.imwrite(str(src / 'sub' / 'b.png'), _grey(40, 56, 1))
    rgb = cv2.cvtColor(_grey(36, 44, 2), cv2.COLOR_GRAY2BGR)
    rgb[..., 2] = 255  # a colour PNG is read by the one reading rule: grey, as in pretraining
    cv2.imwrite(str(src / 'sub' / 'c.png'), rgb)
    write_mjpg_avi(src / 'clip.avi', [_grey(32, 48, 10 + i) for i in range(3)])
    out = str(tmp_path / 'out')

    inferencer = SegInferencer(KNEE, ckpt, device='cpu', cfg_options=options)
    assert inferencer.classes == ('background', 'recess')
    _balance(inferencer, str(src / 'a.png'))
    rows = run_inference(inferencer, str(src), out)
    assert '6/6' in capsys.readouterr().out  # one progress tick per image / frame

    expect = {'a.png': (48, 64), 'sub/b.png': (40, 56), 'sub/c.png': (36, 44),
              'clip/00000.png': (32, 48), 'clip/00001.png': (32, 48),
              'clip/00002.png': (32, 48)}
    labels_seen = set()
    for rel, size in expect.items():
        mask = cv2.imread(osp.join(out, 'masks', rel), cv2.IMREAD_UNCHANGED)
        overlay = cv2.imread(osp.join(out, 'overlays', rel), cv2.IMREAD_UNCHANGED)
        assert mask.dtype == np.uint8 and mask.shape == size, rel
        assert set(np.unique(mask)) <= {0, 1}, rel
        labels_seen |= set(np.unique(mask).tolist())
        assert overlay.shape == size + (3,), rel
        if rel.startswith('clip'):
            continue  # the frame the model saw is the decoded MJPG, not the grey source
        # the image the model saw: LoadUltrasoundFrame's grey plane, repeated into 3 channels
        grey = to_grey_uint8(cv2.imread(str(src / rel), cv2.IMREAD_UNCHANGED), rel)
        image = np.repeat(grey[:, :, None], 3, axis=2).astype(np.float32)
        recess = mask == 1
        assert np.array_equal(overlay[~recess], image[~recess].astype(np.uint8)), rel
        blend = np.round(image[recess] * 0.5 + KNEE_PALETTE_BGR * 0.5)
        assert np.abs(overlay[recess].astype(np.float32) - blend).max() <= 1, rel
    assert labels_seen == {0, 1}  # both branches of the overlay check ran

    summary = _rows(out)
    assert len(summary) == len(rows) == 6
    by_key = {(r['file'], r['frame']): r for r in summary}
    assert set(by_key) == {('a.png', ''), ('sub/b.png', ''), ('sub/c.png', ''),
                           ('clip.avi', '0'), ('clip.avi', '1'), ('clip.avi', '2')}
    mask = cv2.imread(osp.join(out, 'masks', 'sub', 'b.png'), cv2.IMREAD_UNCHANGED)
    row = by_key[('sub/b.png', '')]
    assert int(row['pixels_recess']) == int((mask == 1).sum())
    assert int(row['pixels_background']) + int(row['pixels_recess']) == 40 * 56
    assert 'hc_mm' not in row  # not a head-circumference model


def test_overlay_mask_blends_palette_colours():
    image = np.full((4, 5, 3), 100, np.uint8)
    label = np.zeros((4, 5), np.uint8)
    label[1, 1:3] = 1
    label[3, 4] = 2
    palette = [[0, 0, 0], [255, 0, 0], [0, 0, 200]]  # RGB; black classes are not painted
    out = overlay_mask(image, label, palette, opacity=0.25)
    assert np.array_equal(out[label == 0], image[label == 0])
    assert out[1, 1].tolist() == [75, 75, 139]  # BGR: 0.75*100 + 0.25*(0, 0, 255)
    assert out[3, 4].tolist() == [125, 75, 75]
    with pytest.raises(ValueError, match='opacity'):
        overlay_mask(image, label, palette, opacity=0)


class _EllipseModel:
    """Stands in for SegInferencer: predicts a known filled ellipse (label 1) on each input."""
    classes = ('background', 'fetal head')
    palette = [[0, 0, 0], [0, 160, 255]]
    axes = (30, 18)  # semi-axes in pixels

    def _predict(self, img):
        label = np.zeros(img.shape[:2], np.uint8)
        cv2.ellipse(label, (40, 32), self.axes, 25, 0, 360, 1, -1)
        return cv2.cvtColor(img, cv2.COLOR_GRAY2BGR) if img.ndim == 2 else img, label

    def predict_file(self, path):
        return self._predict(cv2.imread(path, cv2.IMREAD_UNCHANGED))

    def predict_array(self, frame, name='frame'):
        return self._predict(frame)


def test_head_circumference_in_mm_from_the_fitted_ellipse(tmp_path):
    src = tmp_path / 'in'
    src.mkdir()
    for name in ('001_HC.png', '002_HC.png'):
        cv2.imwrite(str(src / name), _grey(64, 80, 0))
    model = _EllipseModel()
    label = model.predict_file(str(src / '001_HC.png'))[1]

    out = str(tmp_path / 'mm')
    run_inference(model, str(src), out, head_label=1, pixel_size=0.15, progress=False)
    rows = {r['file']: r for r in _rows(out)}
    hc_mm = float(rows['001_HC.png']['hc_mm'])
    assert hc_mm == pytest.approx(mask_circumference(label == 1, 0.15), abs=1e-3)
    assert hc_mm == pytest.approx(ramanujan_circumference(30, 18) * 0.15, rel=0.01)
    assert float(rows['001_HC.png']['hc_px']) * 0.15 == pytest.approx(hc_mm, abs=1e-3)
    assert float(rows['001_HC.png']['ellipse_cx']) == pytest.approx(40, abs=0.5)
    assert float(rows['001_HC.png']['pixel_size_mm']) == 0.15
    overlay = cv2.imread(osp.join(out, 'overlays', '001_HC.png'))
    green = np.all(overlay == (0, 255, 0), axis=2)
    ring = np.zeros_like(label)
    cv2.ellipse(ring, (40, 32), model.axes, 25, 0, 360, 1, 3)
    assert (green & (ring == 1)).sum() > 0.8 * ramanujan_circumference(30, 18)  # drawn on it

    # sizes from an HC18 CSV, by file name: one listed, one not
    csv_path = tmp_path / 'pixel_size.csv'
    csv_path.write_text('filename,pixel size(mm),head circumference (mm)\n001_HC.png,0.2,170\n')
    out = str(tmp_path / 'csv')
    run_inference(model, str(src), out, head_label=1, pixel_size_csv=str(csv_path),
                  progress=False)
    rows = {r['file']: r for r in _rows(out)}
    assert float(rows['001_HC.png']['hc_mm']) == pytest.approx(
        mask_circumference(label == 1, 0.2), abs=1e-3)
    assert rows['002_HC.png']['hc_mm'] == '' and 'pixel size unknown' in \
        rows['002_HC.png']['note']
    assert float(rows['002_HC.png']['hc_px']) == pytest.approx(
        mask_circumference(label == 1), abs=1e-3)

    with pytest.raises(ValueError, match='head_label'):
        run_inference(model, str(src), out, pixel_size=0.1, progress=False)


def test_a_checkpoint_of_another_model_is_refused(tmp_path, knee_model):
    _, options = knee_model
    other = tmp_path / 'other_model.pth'
    torch.save({'state_dict': {'encoder.weight': torch.zeros(3, 3),
                               'fc.bias': torch.zeros(2)}}, str(other))
    with pytest.raises(ValueError, match=r'other_model\.pth does not fit the model.*missing'):
        SegInferencer(KNEE, str(other), device='cpu', cfg_options=options)
    cut = tmp_path / 'cut.pth'
    cut.write_bytes(open(knee_model[0], 'rb').read()[:5000])
    with pytest.raises(CorruptCheckpointError, match=r'cut\.pth'):
        SegInferencer(KNEE, str(cut), device='cpu', cfg_options=options)


def test_bad_images_are_named(tmp_path):
    src = tmp_path / 'in'
    src.mkdir()
    cv2.imwrite(str(src / 'good.png'), _grey(64, 80, 0))
    (src / 'broken.png').write_bytes(b'not a png at all' * 10)
    with pytest.raises(ValueError, match=r'broken\.png'):
        run_inference(_EllipseModel(), str(src), str(tmp_path / 'out'), progress=False)
    assert not osp.exists(tmp_path / 'out' / 'masks')  # checked before any work

    rows = run_inference(_EllipseModel(), str(src), str(tmp_path / 'out'), skip_bad=True,
                         progress=False)
    assert [r['file'] for r in rows if not r['error']] == ['good.png']
    bad = [r for r in _rows(str(tmp_path / 'out')) if r['error']]
    assert len(bad) == 1 and bad[0]['file'] == 'broken.png'

    deep = tmp_path / 'deep.png'
    cv2.imwrite(str(deep), (_grey(20, 20, 0).astype(np.uint16) * 16))
    with pytest.raises(ValueError, match=r'deep\.png.*more than 8 bits'):
        list_inputs(str(deep))
    (tmp_path / 'notes.txt').write_text('x')
    with pytest.raises(ValueError, match=r'notes\.txt: not an image'):
        list_inputs(str(tmp_path / 'notes.txt'))


def test_a_truncated_image_is_named_by_the_model_pipeline(tmp_path, knee_model):
    """Its header reads (so the pre-check passes) but its pixels do not."""
    ckpt, options = knee_model
    src = tmp_path / 'in'
    src.mkdir()
    cv2.imwrite(str(src / 'a.png'), _grey(48, 64, 0))
    data = cv2.imencode('.png', _grey(48, 64, 1))[1].tobytes()
    (src / 'cut.png').write_bytes(data[:len(data) // 2])
    inferencer = SegInferencer(KNEE, ckpt, device='cpu', cfg_options=options)
    with pytest.raises(ValueError, match=r'cannot read image .*cut\.png.*--skip-bad'):
        run_inference(inferencer, str(src), str(tmp_path / 'out'), progress=False)
    rows = run_inference(inferencer, str(src), str(tmp_path / 'out'), skip_bad=True,
                         progress=False)
    assert [(r['file'], bool(r['error'])) for r in rows] == [('a.png', False), ('cut.png', True)]


MMSEG_STYLE = """
norm_cfg = dict(type='SyncBN', requires_grad=True)
data_preprocessor = dict(type='SegDataPreProcessor', mean=[123.675, 116.28, 103.53],
                         std=[58.395, 57.12, 57.375], bgr_to_rgb=True, pad_val=0,
                         seg_pad_val=255)
model = dict(
    type='EncoderDecoder', data_preprocessor=data_preprocessor, pretrained=None,
    backbone=dict(type='ResNetV1c', depth=18, num_stages=4, out_indices=(0, 1, 2, 3),
                  dilations=(1, 1, 2, 4), strides=(1, 2, 1, 1), norm_cfg=norm_cfg,
                  norm_eval=False, style='pytorch', contract_dilation=True),
    decode_head=dict(type='FCNHead', in_channels=512, in_index=3, channels=8, num_convs=1,
                     concat_input=False, dropout_ratio=0.1, num_classes=2,
                     norm_cfg=norm_cfg, align_corners=False,
                     loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False,
                                      loss_weight=1.0)),
    train_cfg=dict(), test_cfg=dict(mode='whole'))
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(32, 32), keep_ratio=True),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs')
]
test_dataloader = dict(batch_size=1, num_workers=0,
                       dataset=dict(type='DRIVEDataset', data_root='data/DRIVE',
                                    data_prefix=dict(img_path='images/validation',
                                                     seg_map_path='annotations/validation'),
                                    pipeline=test_pipeline))
default_scope = 'mmseg'
"""


def test_an_mmseg_native_config(tmp_path):
    """A config written as mmseg's own (its dataset, SyncBN, no custom_imports) runs too."""
    config = tmp_path / 'fcn_r18-d8_drive-32x32.py'
    config.write_text(MMSEG_STYLE)
    ckpt = _save_checkpoint(str(config), {}, tmp_path / 'drive.pth')
    src = tmp_path / 'img.png'
    cv2.imwrite(str(src), cv2.cvtColor(_grey(40, 50, 3), cv2.COLOR_GRAY2BGR))
    inferencer = SegInferencer(str(config), ckpt, device='cpu')
    assert inferencer.classes == ('background', 'vessel')  # mmseg's DRIVEDataset metainfo
    assert inferencer.palette == [[120, 120, 120], [6, 230, 230]]
    _balance(inferencer, str(src))
    run_inference(inferencer, str(src), str(tmp_path / 'out'), opacity=1.0, progress=False)
    mask = cv2.imread(str(tmp_path / 'out' / 'masks' / 'img.png'), cv2.IMREAD_UNCHANGED)
    overlay = cv2.imread(str(tmp_path / 'out' / 'overlays' / 'img.png'))
    assert mask.shape == (40, 50) and set(np.unique(mask)) == {0, 1}
    assert (overlay[mask == 0] == (120, 120, 120)).all()  # opacity 1: the palette itself
    assert (overlay[mask == 1] == (230, 230, 6)).all()
    row = _rows(str(tmp_path / 'out'))[0]
    assert int(row['pixels_vessel']) == int((mask == 1).sum())


def test_main_with_the_hc18_config_finds_the_pixel_sizes(tmp_path, capsys):
    """The command line on our HC18 config: head label 1 and <data_root>/pixel_size.csv are
    taken from the config; HC in mm is the fit of the written mask times the listed size."""
    options = _tiny(HC18)
    ckpt = _save_checkpoint(HC18, options, tmp_path / 'hc.pth')
    data_root = tmp_path / 'hc18'
    data_root.mkdir()
    (data_root / 'pixel_size.csv').write_text('filename,pixel size(mm)\n007_HC.png,0.125\n')
    src = tmp_path / '007_HC.png'
    cv2.imwrite(str(src), _grey(48, 64, 4))
    options['test_dataloader.dataset.data_root'] = str(data_root)
    out = tmp_path / 'out'
    assert main([HC18, ckpt, str(src), str(out), '--device', 'cpu',
                 '--cfg-options', *format_cfg_options(options)]) == 0
    row = _rows(str(out))[0]
    mask = cv2.imread(str(out / 'masks' / '007_HC.png'), cv2.IMREAD_UNCHANGED)
    expected = mask_circumference(mask == 1, 0.125)
    assert expected is not None  # the seeded random head predicts a head somewhere
    assert float(row['hc_mm']) == pytest.approx(expected, abs=1e-3)
    assert float(row['pixel_size_mm']) == 0.125
    assert 'pixel sizes from' in capsys.readouterr().out


@pytest.mark.slow
def test_package_entry_point_help():
    out = subprocess.run([sys.executable, '-m', 'mmssl_us.seg.inference', '--help'],
                         capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert '--pixel-size-csv' in out.stdout and 'checkpoint' in out.stdout


def test_files_the_tools_do_not_read_are_counted_and_medical_ones_refused(tmp_path, capsys):
    # before: "segmented 1 images" with the .txt and .nii left out without a word
    src = tmp_path / 'in'
    src.mkdir()
    cv2.imwrite(str(src / 'good.png'), _grey(64, 80, 0))
    (src / 'notes.txt').write_text('x')
    items = list_inputs(str(src), out_dir=str(src / 'out'))
    assert [i.rel_stem for i in items] == ['good']
    assert 'skipped 1 file(s) in ' in capsys.readouterr().out
    (src / 'scan.nii').write_bytes(b'x')
    with pytest.raises(ValueError, match=r'1 \.nii.*medical_io SRC OUT'):
        list_inputs(str(src))
    with pytest.raises(ValueError, match=r'scan\.nii is a medical image.*medical_io'):
        list_inputs(str(src / 'scan.nii'))


def test_images_are_segmented_in_batches_as_one_by_one(tmp_path, knee_model):
    """Batched forward passes (MMSegInferencer underneath) give the labels of single passes;
    inputs of two sizes go in separate passes."""
    ckpt, options = knee_model
    paths = []
    for i, (h, w) in enumerate([(48, 64), (48, 64), (40, 50)]):
        paths.append(str(tmp_path / f'{i}.png'))
        cv2.imwrite(paths[-1], _grey(h, w, i))
    inferencer = SegInferencer(KNEE, ckpt, device='cpu', cfg_options=options, batch_size=2)
    _balance(inferencer, paths[0])
    single = [inferencer.predict_file(p) for p in paths]
    calls = []
    original = inferencer.model.test_step
    inferencer.model.test_step = lambda batch: calls.append(len(batch['inputs'])) or \
        original(batch)
    batched = inferencer.predict_files(paths)
    assert sorted(calls) == [1, 2]
    for (img_a, lab_a), (img_b, lab_b) in zip(single, batched):
        assert (img_a == img_b).all() and (lab_a == lab_b).all()
    assert set(np.unique(batched[0][1])) == {0, 1}  # a real prediction, not all one class
