"""The folder study end to end, for real, at a tiny size: a generated 3-class folder with train
and test only (no val, no unlabelled), run through configs/study/folder.py with --cfg-options."""
import csv
import os
import os.path as osp
import subprocess
import sys

import cv2
import numpy as np
import pytest
from mmengine.config import Config

from mmssl_us.study.runner import load_study_cfg, run_study

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(ROOT, 'configs', 'study', 'folder.py')
CLASSES = ['background', 'nerve', 'vessel']


def make_three_class_folder(root, train_patients=6, frames=3, test_patients=2, seed=0):
    """Grey and colour 40x56 frames: a bright ellipse (1, 'nerve') and a dark disc (2)."""
    rng = np.random.default_rng(seed)
    items = [('train', f'P{p}_{f}') for p in range(train_patients) for f in range(frames)]
    items += [('test', f'T{p}_0') for p in range(test_patients)]
    for i, (split, stem) in enumerate(items):
        img = rng.normal(60, 15, (40, 56)).clip(0, 255)
        mask = np.zeros((40, 56), np.uint8)
        cy, cx = rng.integers(12, 28), rng.integers(12, 24)
        cv2.ellipse(mask, (int(cx), int(cy)), (8, 5), 0, 0, 360, 1, -1)
        cv2.circle(mask, (int(cx) + 22, int(cy)), 6, 2, -1)
        img[mask == 1] += 120
        img[mask == 2] -= 50
        img = img.clip(0, 255).astype(np.uint8)
        if i % 2:  # colour frames (a false-colour overlay) next to grey ones
            img = cv2.applyColorMap(img, cv2.COLORMAP_BONE)
        for kind, arr in (('images', img), ('masks', mask)):
            os.makedirs(osp.join(root, kind, split), exist_ok=True)
            cv2.imwrite(osp.join(root, kind, split, stem + '.png'), arr)
    return root


TINY = {
    'study.classes': CLASSES,
    'study.folder.val': 0.34,
    'study.pretrain.densecl.shrink': dict(depth=18, view_size=32, batch_size=8, num_workers=0,
                                          max_epochs=1, warmup_iters=1),
    'study.pretrain.densecl.cfg_options': {
        'train_dataloader.dataset.exclude': ['images/val', 'images/test'],
        'train_dataloader.persistent_workers': False,
        'default_hooks.logger.interval': 1, 'default_hooks.checkpoint.interval': 1},
    'study.probe': dict(fraction=1.0, interval=1, size=32, steps=10, max_images=4),
    'study.finetune.shrink': dict(crop_size=32, img_scale=48, max_iters=4, val_interval=2,
                                  batch_size=2, depth=18, head_channels=8, num_workers=0,
                                  warmup_iters=1),
    'study.finetune.cfg_options': {'log_level': 'WARNING', 'optim_wrapper.optimizer.lr': 0.05,
                                   'default_hooks.checkpoint.interval': 1000,
                                   'default_hooks.checkpoint.save_last': False},
    'study.fractions': [1.0],
    'study.seeds': [0],
}


def _snapshot(root):
    return sorted((osp.relpath(osp.join(d, f), root), os.stat(osp.join(d, f)).st_mtime_ns)
                  for d, _, fs in os.walk(root) for f in fs)


@pytest.mark.slow
def test_folder_study_end_to_end(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)  # the study config names configs/ relative to the repository
    src = make_three_class_folder(str(tmp_path / 'nerves'))
    before = _snapshot(src)
    work = str(tmp_path / 'study')
    lines = []
    run_study(CONFIG, work, log=lines.append,
              cfg_options=dict(TINY, **{'study.data_root': src}))
    log = '\n'.join(lines)
    assert _snapshot(src) == before  # the user's folder is read, never written
    assert 'val carved from train' in log, log[-3000:]
    with open(osp.join(work, 'results.csv')) as f:
        rows = list(csv.DictReader(f))
    assert sorted(r['init'] for r in rows) == ['densecl', 'densecl_start', 'random']
    for r in rows:
        assert 0 <= float(r['mIoU']) <= 100
    # three classes throughout: the fine-tuning heads, datasets and the online probe
    run_cfg = Config.fromfile(next(
        osp.join(d, f) for d, _, fs in os.walk(osp.join(work, 'runs', 'random'))
        for f in fs if f.endswith('.py')))
    assert run_cfg.model.decode_head.num_classes == 3
    assert run_cfg.model.auxiliary_head.num_classes == 3
    assert tuple(run_cfg.test_dataloader.dataset.metainfo['classes']) == tuple(CLASSES)
    assert run_cfg.test_dataloader.dataset.data_root == osp.join(work, 'data')
    pre = Config.fromfile(osp.join(work, 'pretrain', 'densecl_config.py'))
    probe = [h for h in pre.custom_hooks if h['type'] == 'DenseProbeHook'][0]
    assert probe['num_classes'] == 3
    # the pool: the train split's images only (no val/test patient), and nothing else
    pool = os.listdir(osp.join(work, 'data', 'unlabelled', 'train'))
    train = os.listdir(osp.join(work, 'data', 'images', 'train'))
    assert sorted(pool) == sorted(train)
    # a second run resumes: nothing to do, the view reused
    lines.clear()
    run_study(CONFIG, work, log=lines.append,
              cfg_options=dict(TINY, **{'study.data_root': src}))
    assert any('3 already finished, 0 to go' in ln for ln in lines), lines
    assert any('reused' in ln for ln in lines), lines


def test_folder_study_needs_its_folder_and_classes(tmp_path):
    with pytest.raises(ValueError, match='study.data_root is not set'):
        run_study(CONFIG, str(tmp_path / 'a'), log=lambda _: None,
                  cfg_options={'study.classes': CLASSES})
    src = make_three_class_folder(str(tmp_path / 'd'), train_patients=2, frames=1,
                                  test_patients=1)
    with pytest.raises(ValueError, match='study.classes must list'):
        run_study(CONFIG, str(tmp_path / 'b'), log=lambda _: None,
                  cfg_options={'study.data_root': src})


def test_study_cfg_options_typos_are_refused():
    with pytest.raises(ValueError, match="did you mean 'classes'"):
        load_study_cfg(CONFIG, {'study.clases': CLASSES})
    with pytest.raises(ValueError, match="did you mean 'study'"):
        load_study_cfg(CONFIG, {'studdy.data_root': 'x'})
    cfg = load_study_cfg(CONFIG, {'study.data_root': 'x', 'study.classes': CLASSES})
    assert cfg.study.data_root == 'x' and list(cfg.study.classes) == CLASSES


@pytest.mark.slow
def test_run_study_tool_takes_cfg_options(tmp_path):
    res = subprocess.run([sys.executable, osp.join(ROOT, 'tools', 'run_study.py'), CONFIG,
                          '--work-dir', str(tmp_path / 'w'), '--cfg-options',
                          'study.data_root=' + str(tmp_path / 'missing'),
                          "study.classes=['background','nerve']"],
                         capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert res.returncode != 0
    assert 'missing' in res.stderr and 'does not exist' in res.stderr, res.stderr[-2000:]
