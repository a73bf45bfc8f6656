"""An online dense probe: how well the backbone's frozen features segment, during pretraining.

The contrastive loss does not say whether the features get better for segmentation (it can rise
while they do, or fall while they do not). Every ``interval`` epochs this hook takes the
backbone as it is, in eval mode and without gradients, computes feature maps of a small
labelled set, fits a linear 1x1-conv head on them (full batch, from zeros, so the fit is
deterministic) and reports the head's mIoU on a validation split. The numbers are logged
(``probe/mIoU``) and kept in ``<work_dir>/probe.json`` for the study report. It reads
``<data_root>/images/<split>`` and ``masks/<split>`` (the layout of docs/CONTRACTS.md) and never
the test split. mmseg is not needed: the images are read with OpenCV and the metric is here.
"""
from __future__ import annotations

import glob
import json
import os.path as osp
import time
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmpretrain.registry import HOOKS

from ...data.media import IMAGE_SUFFIXES, read_image
from ...fileio import atomic_write
from ...validate import check_int

from ..datasets.loading import to_grey_uint8

__all__ = ['DenseProbeHook', 'probe_miou', 'fit_linear_probe']


def probe_miou(pred: np.ndarray, label: np.ndarray, num_classes: int,
               ignore_index: int = 255) -> Tuple[float, List[float]]:
    """mIoU (%) over a whole split, as mmseg computes it: per-class intersections and unions
    summed over all images, classes absent from both prediction and label left out.

    Args:
        pred (np.ndarray): Predicted labels, any shape.
        label (np.ndarray): Ground-truth labels, same shape; ``ignore_index`` pixels skipped.
        num_classes (int): Number of classes.
        ignore_index (int): Label value to skip. Defaults to 255.

    Returns:
        tuple[float, list[float]]: mIoU and the IoU of each class (nan where undefined).
    """
    if pred.shape != label.shape:
        raise ValueError(f'prediction {pred.shape} and label {label.shape} differ in shape')
    keep = label != ignore_index
    p, t = pred[keep].astype(np.int64), label[keep].astype(np.int64)
    ious = []
    for c in range(num_classes):
        inter = np.count_nonzero((p == c) & (t == c))
        union = np.count_nonzero((p == c) | (t == c))
        ious.append(100.0 * inter / union if union else float('nan'))
    valid = [v for v in ious if not np.isnan(v)]
    return (float(np.mean(valid)) if valid else float('nan')), ious


def fit_linear_probe(feats: torch.Tensor, labels: torch.Tensor, num_classes: int,
                     steps: int = 200, lr: float = 0.1,
                     ignore_index: int = 255) -> torch.nn.Conv2d:
    """Fit a 1x1 conv on ``feats`` (N, C, h, w) to ``labels`` (N, H, W): logits upsampled
    bilinearly to H x W, cross-entropy, full-batch Adam from zero weights (deterministic)."""
    head = torch.nn.Conv2d(feats.shape[1], num_classes, 1)
    torch.nn.init.zeros_(head.weight)
    torch.nn.init.zeros_(head.bias)
    opt = torch.optim.Adam(head.parameters(), lr=lr)
    size = labels.shape[-2:]
    with torch.enable_grad():
        for _ in range(steps):
            opt.zero_grad()
            logits = F.interpolate(head(feats), size=size, mode='bilinear', align_corners=False)
            F.cross_entropy(logits, labels, ignore_index=ignore_index).backward()
            opt.step()
    return head


@HOOKS.register_module()
class DenseProbeHook(Hook):
    """Fit and score a linear segmentation probe on the frozen backbone every few epochs.

    Args:
        data_root (str): Dataset root with ``images/<split>`` and ``masks/<split>``.
        train_split (str): Split the probe is fitted on. Defaults to 'train'.
        val_split (str): Split it is scored on (never the test split). Defaults to 'val'.
        fraction (float): Patient-level label fraction of ``train_split`` (the study's few
            labels), drawn like the fine-tuning fractions. Defaults to 0.1.
        fraction_seed (int): Seed of that draw. Defaults to 0.
        num_classes (int): Classes of the masks. Defaults to 2.
        interval (int): Probe every this many epochs (and before the first, and after the
            last). Defaults to 10.
        size (int): Images and masks are resized to ``size`` x ``size``. Defaults to 128.
        stages (Sequence[str]): Backbone modules whose outputs are concatenated (upsampled to
            the first one's grid). Defaults to ('layer3', 'layer4').
        max_images (int): At most this many images per split. Defaults to 64.
        steps (int): Full-batch optimiser steps of the fit. Defaults to 200.
        mean (float), std (float): Grey-level normalisation. Defaults to 40 / 44 (the
            pretraining configs').
    """

    priority = 'LOW'

    def __init__(self, data_root: str, train_split: str = 'train', val_split: str = 'val',
                 fraction: float = 0.1, fraction_seed: int = 0, num_classes: int = 2,
                 interval: int = 10, size: int = 128,
                 stages: Sequence[str] = ('layer3', 'layer4'), max_images: int = 64,
                 steps: int = 200, mean: float = 40.0, std: float = 44.0) -> None:
        if val_split == 'test' or train_split == 'test':
            raise ValueError('DenseProbeHook never reads the test split; use train/val')
        self.interval = check_int('interval', interval, low=1)
        self.size = check_int('size', size, low=32)
        self.num_classes = check_int('num_classes', num_classes, low=2)
        self.max_images = check_int('max_images', max_images, low=1)
        self.steps = check_int('steps', steps, low=1)
        self.data_root, self.fraction, self.fraction_seed = data_root, fraction, fraction_seed
        self.splits = (train_split, val_split)
        self.stages = tuple(stages)
        self.mean, self.std = float(mean), float(std)
        self._data: Optional[Dict[str, Tuple[torch.Tensor, torch.Tensor]]] = None
        self.history: List[dict] = []

    # data -------------------------------------------------------------------------------
    def _pairs(self, split: str) -> List[Tuple[str, str]]:
        img_dir = osp.join(self.data_root, 'images', split)
        mask_dir = osp.join(self.data_root, 'masks', split)
        imgs = sorted(p for p in glob.glob(osp.join(img_dir, '*'))
                      if p.lower().endswith(IMAGE_SUFFIXES))
        if not imgs:
            raise FileNotFoundError(f'DenseProbeHook: no images in {img_dir}')
        if split == self.splits[0] and self.fraction < 1:
            from ...data.fractions import select_fraction
            from ...data.splits import patient_id
            imgs = select_fraction(imgs, self.fraction, self.fraction_seed, patient_id)
        pairs = []
        for img in imgs[:self.max_images]:
            stem = osp.splitext(osp.basename(img))[0]
            masks = glob.glob(osp.join(mask_dir, stem + '.*'))
            if not masks:
                raise FileNotFoundError(f'DenseProbeHook: no mask for {img} in {mask_dir}')
            pairs.append((img, masks[0]))
        return pairs

    def _load(self, split: str) -> Tuple[torch.Tensor, torch.Tensor]:
        imgs, labels = [], []
        for img_path, mask_path in self._pairs(split):
            # the pretraining's own reading: grey, 10-16-bit frames at their real bit depth
            img = to_grey_uint8(read_image(img_path), img_path)
            mask = read_image(mask_path)
            if mask.ndim == 3:
                mask = mask[..., 0]
            if mask.max() >= self.num_classes and mask.max() != 255:
                raise ValueError(f'DenseProbeHook: {mask_path} has label {int(mask.max())} '
                                 f'>= num_classes={self.num_classes}')
            dsize = (self.size, self.size)
            imgs.append(cv2.resize(img, dsize, interpolation=cv2.INTER_AREA))
            labels.append(cv2.resize(mask, dsize, interpolation=cv2.INTER_NEAREST))
        x = (torch.from_numpy(np.stack(imgs)).float() - self.mean) / self.std
        return x[:, None].expand(-1, 3, -1, -1).contiguous(), torch.from_numpy(
            np.stack(labels).astype(np.int64))

    # features and probe -------------------------------------------------------------------
    def features(self, backbone: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
        """Concatenated outputs of ``self.stages`` for images ``x`` (eval mode, no grad)."""
        outs: Dict[str, torch.Tensor] = {}
        handles = []
        for name in self.stages:
            try:  # a dotted name reaches a nested stage (a UNet encoder's 'encoder.3')
                module = backbone.get_submodule(name)
            except AttributeError:
                module = None
            if module is None:
                raise ValueError(f'DenseProbeHook: the backbone has no module {name!r}')
            handles.append(module.register_forward_hook(
                lambda m, i, o, name=name: outs.__setitem__(name, o)))
        was_training = backbone.training
        backbone.eval()
        try:
            with torch.no_grad():
                chunks = []
                for batch in x.split(16):
                    outs.clear()
                    backbone(batch)
                    grid = outs[self.stages[0]].shape[-2:]
                    chunks.append(torch.cat([F.interpolate(outs[n], size=grid, mode='bilinear',
                                                           align_corners=False)
                                             for n in self.stages], dim=1))
        finally:
            for h in handles:
                h.remove()
            backbone.train(was_training)
        return torch.cat(chunks)

    def probe(self, backbone: torch.nn.Module) -> Tuple[float, List[float]]:
        """Fit on the train split's fraction, score on the val split: (mIoU, IoU per class)."""
        if self._data is None:
            self._data = {s: self._load(s) for s in self.splits}
        (xt, yt), (xv, yv) = self._data[self.splits[0]], self._data[self.splits[1]]
        ft, fv = self.features(backbone, xt), self.features(backbone, xv)
        mu = ft.mean(dim=(0, 2, 3), keepdim=True)
        sd = ft.std(dim=(0, 2, 3), keepdim=True) + 1e-6
        head = fit_linear_probe((ft - mu) / sd, yt, self.num_classes, self.steps)
        with torch.no_grad():
            logits = F.interpolate(head((fv - mu) / sd), size=yv.shape[-2:], mode='bilinear',
                                   align_corners=False)
        return probe_miou(logits.argmax(1).numpy(), yv.numpy(), self.num_classes)

    # hook points ------------------------------------------------------------------------
    def _run(self, runner, epochs_done: int) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        t0 = time.time()
        miou, ious = self.probe(model.backbone)
        seconds = time.time() - t0
        record = dict(epoch=int(epochs_done), iter=int(runner.iter), mIoU=round(miou, 3),
                      IoU=[round(v, 3) for v in ious], seconds=round(seconds, 2))
        self.history = [r for r in self.history if r['iter'] != record['iter']] + [record]
        atomic_write(osp.join(runner.work_dir, 'probe.json'), json.dumps(self.history, indent=1))
        runner.visualizer.add_scalars({'probe/mIoU': miou}, step=runner.iter)
        runner.logger.info(f'DenseProbeHook: after {epochs_done} epoch(s), iter {runner.iter}: probe '
                           f'mIoU {miou:.2f} on {self.splits[1]} (IoU per class '
                           f'{", ".join(f"{v:.1f}" for v in ious)}; {seconds:.1f} s)')

    def before_train(self, runner) -> None:
        path = osp.join(runner.work_dir, 'probe.json')
        if osp.isfile(path):  # a resumed run keeps its earlier probes
            with open(path, encoding='utf-8') as f:
                self.history = json.load(f)
        if runner.iter == 0:
            self._run(runner, 0)

    def after_train_epoch(self, runner) -> None:
        if self.every_n_epochs(runner, self.interval) or self.is_last_train_epoch(runner):
            self._run(runner, runner.epoch + 1)  # mmengine counts the epoch up after this
