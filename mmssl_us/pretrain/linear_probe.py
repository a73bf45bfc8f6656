"""A linear probe of frozen backbones on a class-per-folder image set (the infant-hip
standard-plane images): DenseCL vs same-start vs random.

    python tools/analysis/hip_spj_linear_probe.py \
        --data ../shared/data/nhbs_hip_spj/SPJ_dataset \
        --densecl work_dirs/study/hc18_cpu/pretrain/densecl/final.pth \
        --start work_dirs/study/hc18_cpu/pretrain/densecl/start_weights.pth --depth 18

What it does, once per arm (``densecl``, ``start`` = the same network before its first
pretraining step, ``random`` = mmpretrain's default initialisation, seed 0):

1. builds the classifier of ``configs/linear_probe/resnet50-densecl-linear_hip-spj.py`` (depth,
   image size and checkpoint overridden) with mmpretrain's registry; the backbone is loaded by
   ``VerifiedPretrained`` (raw pretraining checkpoints with ``prefix='backbone.'``);
2. extracts the frozen features (backbone + global average pooling, eval mode) of every image
   through the config's test pipeline and data preprocessor (grey mean 40 / std 44);
3. trains the linear head on those features with scikit-learn's ``LogisticRegression``
   (standardised features, C=1, no tuning), by repeated stratified k-fold cross-validation
   with the same folds for every arm, and prints the accuracy of each repeat (every image
   predicted once per repeat), the mean and standard deviation over repeats, and the paired
   per-repeat differences between arms.

Byte-identical files are kept once (the folder holds a duplicate), so that no image is in a
training and a test fold at once. With 50 images one image is 2 points of accuracy; the spread
over repeats shows only the split-to-split variation, not the sampling error of so small a set.

mmpretrain, scikit-learn and mmcv are imported lazily (this module never imports mmseg).
"""
from __future__ import annotations

import argparse
import copy
import os.path as osp
import time

import numpy as np

from ..config_utils import resolve_config
from ..resnet import DEPTHS, STAGE_CHANNELS

__all__ = ['parse_args', 'build_classifier', 'unique_samples', 'extract_features',
           'probe_accuracy', 'main']

CONFIG = 'configs/linear_probe/resnet50-densecl-linear_hip-spj.py'


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--data', default='../shared/data/nhbs_hip_spj/SPJ_dataset',
                        help='folder with one sub-folder per class')
    parser.add_argument('--densecl', required=True,
                        help='DenseCL checkpoint: raw pretraining (backbone.* keys) or '
                        'converted with --target mmpretrain')
    parser.add_argument('--start', help='the same-start control (e.g. start_weights.pth)')
    parser.add_argument('--depth', type=int, default=50, choices=list(DEPTHS))
    parser.add_argument('--img-size', type=int, default=128)
    parser.add_argument('--repeats', type=int, default=10, help='cross-validation repeats')
    parser.add_argument('--folds', type=int, default=5)
    parser.add_argument('--config', default=CONFIG)
    return parser.parse_args(argv)


def _prefix(path):
    """'backbone.' for a whole-model checkpoint, None for a converted backbone file."""
    from ..checkpoint import safe_load
    from ..transfer.keys import unwrap_state_dict
    keys = unwrap_state_dict(safe_load(path, map_location='cpu'))
    return 'backbone.' if any(k.startswith('backbone.') for k in keys) else None


def build_classifier(cfg, checkpoint):
    """The config's classifier, its backbone from ``checkpoint`` (None: random, seed 0)."""
    import torch
    from mmengine.registry import DefaultScope
    from mmpretrain.registry import MODELS
    model_cfg = copy.deepcopy(cfg.model)
    if checkpoint is None:
        model_cfg.backbone.pop('init_cfg')
    else:
        model_cfg.backbone.init_cfg = dict(type='VerifiedPretrained', checkpoint=checkpoint,
                                           prefix=_prefix(checkpoint))
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        model = MODELS.build(model_cfg)
    model.init_weights()
    return model.eval()


def unique_samples(cfg, data_root):
    """(image paths, labels) of the class folders, byte-identical files kept once."""
    from mmengine.registry import DefaultScope
    from mmpretrain.registry import DATASETS

    from ..data.media import file_md5
    ds_cfg = copy.deepcopy(cfg.test_dataloader.dataset)
    ds_cfg.update(data_root=data_root, pipeline=[])
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        dataset = DATASETS.build(ds_cfg)
    paths, labels, seen, dups = [], [], {}, []
    for item in dataset.load_data_list():
        digest = file_md5(item['img_path'])
        if digest in seen:
            dups.append((osp.basename(item['img_path']), osp.basename(seen[digest])))
            continue
        seen[digest] = item['img_path']
        paths.append(item['img_path'])
        labels.append(int(item['gt_label']))
    return paths, np.array(labels), dataset.metainfo['classes'], dups


def extract_features(model, cfg, paths):
    """Frozen features (N x C) of ``paths`` through the config's test pipeline."""
    import torch
    from mmcv.transforms import Compose
    from mmengine.registry import DefaultScope
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        pipeline = Compose(cfg.test_dataloader.dataset.pipeline)
    feats = []
    with torch.no_grad():
        for i in range(0, len(paths), 16):
            batch = [pipeline(dict(img_path=p)) for p in paths[i:i + 16]]
            data = model.data_preprocessor(
                dict(inputs=[b['inputs'] for b in batch],
                     data_samples=[b['data_samples'] for b in batch]), False)
            feats.append(model.extract_feat(data['inputs'])[-1].cpu().numpy())
    return np.concatenate(feats).astype(np.float64)


def probe_accuracy(features, labels, repeats, folds):
    """Accuracy per repeat of a repeated stratified k-fold logistic-regression probe."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import RepeatedStratifiedKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    cv = RepeatedStratifiedKFold(n_splits=folds, n_repeats=repeats, random_state=0)
    correct = np.zeros(repeats)
    for i, (train, test) in enumerate(cv.split(features, labels)):
        clf = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=5000))
        clf.fit(features[train], labels[train])
        correct[i // folds] += (clf.predict(features[test]) == labels[test]).sum()
    return correct / len(labels)


def main(argv=None):
    args = parse_args(argv)
    from mmengine.config import Config
    from mmengine.logging import MMLogger

    from ..transfer import init  # noqa: F401  (registers VerifiedPretrained)
    MMLogger.get_instance('hip_spj_linear_probe', log_level='WARNING')  # no init-info dumps
    cfg = Config.fromfile(resolve_config(args.config))
    cfg.model.backbone.depth = args.depth
    cfg.model.head.in_channels = STAGE_CHANNELS[args.depth][-1]
    for step in cfg.test_dataloader.dataset.pipeline:
        if step['type'] == 'Resize':
            step['scale'] = (args.img_size, args.img_size)
    paths, labels, classes, dups = unique_samples(cfg, args.data)
    counts = ', '.join(f'{c} {int((labels == i).sum())}' for i, c in enumerate(classes))
    print(f'{len(paths)} images ({counts}); byte-identical duplicates left out: '
          f'{dups or "none"}')
    arms = dict(densecl=args.densecl, start=args.start, random=None)
    arms = {k: v for k, v in arms.items() if k != 'start' or v}
    results = {}
    for name, checkpoint in arms.items():
        t0 = time.time()
        model = build_classifier(cfg, checkpoint)
        feats = extract_features(model, cfg, paths)
        results[name] = probe_accuracy(feats, labels, args.repeats, args.folds)
        print(f'[{name}] {checkpoint or "mmpretrain default init (seed 0)"}: features '
              f'{feats.shape}, {time.time() - t0:.1f} s')
    print(f'\nlinear probe accuracy, ResNetV1c-{args.depth} frozen, {args.img_size} px, '
          f'{args.repeats} x stratified {args.folds}-fold CV (logistic regression, C=1):')
    for name, acc in results.items():
        per = ' '.join(f'{a:.2f}' for a in acc)
        print(f'  {name:8s} mean {acc.mean():.3f} +- {acc.std(ddof=1):.3f} (sd over repeats; '
              f'min {acc.min():.2f}, max {acc.max():.2f}); per repeat: {per}')
    for other in [n for n in results if n != 'densecl']:
        diff = results['densecl'] - results[other]
        print(f'  densecl - {other}: mean {diff.mean():+.3f} +- {diff.std(ddof=1):.3f}, '
              f'higher in {(diff > 0).sum()}/{len(diff)} repeats, equal in '
              f'{(diff == 0).sum()}')
    return 0

