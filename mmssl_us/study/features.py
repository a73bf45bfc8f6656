"""Backbone features of segmentation models on labelled images, for the t-SNE (tsne.py).

Builds the mmseg model of a config, loads a checkpoint into its backbone (a full mmseg checkpoint
or a backbone-only state_dict, with a report of what loaded), computes the last backbone stage's
feature map per image, and picks feature-map cells with the majority mask class of the pixels each
covers. Host libraries (mmengine, mmseg) are imported lazily.
"""
from __future__ import annotations

import copy
import importlib
import importlib.util
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, List, Optional, Tuple, Union

import numpy as np

if TYPE_CHECKING:  # host types, for annotations only
    from mmengine.config import Config
    from torch import nn

Sample = Tuple[np.ndarray, np.ndarray]  # image HxW or HxWxC, mask HxW


@dataclass
class LoadReport:
    """What loading one checkpoint into the backbone did (kind: 'full', 'backbone' or 'none')."""
    path: str
    kind: str
    loaded: int = 0
    missing: List[str] = field(default_factory=list)
    unexpected: List[str] = field(default_factory=list)
    ignored: int = 0  # non-backbone keys of a full checkpoint (decode head, neck, ...)


def _mmseg_config(cfg: Union[str, 'Config']) -> 'Config':
    """Load the config, import its plugins (else mmssl_us.seg when present), scope mmseg."""
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmengine.utils import import_modules_from_strings
    cfg = cfg if isinstance(cfg, Config) else Config.fromfile(cfg)
    if cfg.get('default_scope', 'mmseg') != 'mmseg':
        raise ValueError(f"default_scope {cfg.default_scope!r}: a segmentation config is needed")
    if cfg.get('custom_imports'):
        import_modules_from_strings(**cfg.custom_imports)
    elif importlib.util.find_spec('mmssl_us.seg') is not None:
        importlib.import_module('mmssl_us.seg')
    init_default_scope('mmseg')
    return cfg


def build_model(cfg: Union[str, 'Config']) -> 'nn.Module':
    """Build the segmentor of an mmseg config in eval mode, weights as constructed.

    The config's ``custom_imports`` are imported (else ``mmssl_us.seg`` when present) and the
    default scope set to mmseg; ``init_weights`` is not called, so no pretrained file is read.

    Args:
        cfg (str | Config): Config path or object; its default_scope must be mmseg.
    """
    cfg = _mmseg_config(cfg)
    from mmseg.registry import MODELS
    return MODELS.build(copy.deepcopy(cfg.model)).eval()


def load_backbone(model: 'nn.Module', path: str, allow_missing: bool = False) -> LoadReport:
    """Load ``path`` into ``model.backbone``; ``'none'`` keeps the weights as built.

    Args:
        model (nn.Module): Segmentor with a ``backbone``.
        path (str): Full checkpoint (keys ``backbone.*``), backbone-only state_dict, or 'none'.
        allow_missing (bool): Go on when backbone keys are missing. Defaults to False.
    """
    if path.lower() == 'none':
        return LoadReport(path, 'none')
    from mmengine.runner import CheckpointLoader, load_state_dict
    if importlib.util.find_spec('mmssl_us.checkpoint') is not None:
        importlib.import_module('mmssl_us.checkpoint').install()  # safe torch.load of mmengine
    ckpt = CheckpointLoader.load_checkpoint(path, map_location='cpu')
    sd = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) else None
    if not isinstance(sd, dict) or not sd:
        raise ValueError(f'{path}: holds no state_dict')
    from ..transfer.keys import compare_keys, extract_backbone, unwrap_state_dict
    sd = unwrap_state_dict(sd)
    full = any(k.startswith('backbone.') for k in sd)
    sub = extract_backbone(sd) if full else sd
    own = model.backbone.state_dict()
    keys = compare_keys(own, sub)
    if keys.shape:
        raise ValueError(f'{path}: shape mismatch for backbone keys {keys.shape[:5]}')
    report = LoadReport(path, 'full' if full else 'backbone', len(sub) - len(keys.unexpected),
                        keys.missing, keys.unexpected, len(sd) - len(sub))
    if report.loaded == 0:
        raise ValueError(f'{path}: none of its keys fits the backbone (it has {list(sub)[:3]}, '
                         f'the backbone wants {list(own)[:3]}); convert it first')
    if report.missing and not allow_missing:
        raise ValueError(f'{path}: {len(report.missing)} backbone keys missing, e.g. '
                         f'{report.missing[:5]} (allow_missing=True to go on)')
    load_state_dict(model.backbone, {k: sub[k] for k in own if k in sub}, logger='silent')
    return report


def dense_features(model: 'nn.Module', image: np.ndarray) -> np.ndarray:
    """Features of the last backbone stage for one image, after the model's preprocessor.

    Args:
        model (nn.Module): Segmentor with ``data_preprocessor`` and ``backbone``.
        image (np.ndarray): HxW grey (repeated to the backbone's channels) or HxWxC, in the
            channel order the dataset pipeline gives (BGR for colour files).

    Returns:
        np.ndarray: C x h x w features.
    """
    import torch
    from mmseg.structures import SegDataSample
    img = np.asarray(image)
    img = img[..., None] if img.ndim == 2 else img
    in_ch = next(model.backbone.parameters()).shape[1]
    if img.shape[2] == 1 and in_ch != 1:
        img = np.repeat(img, in_ch, axis=2)
    x = torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1)))
    with torch.no_grad():
        data = model.data_preprocessor(dict(inputs=[x], data_samples=[SegDataSample()]), False)
        return model.backbone(data['inputs'])[-1][0].cpu().numpy()  # C x h x w


def cell_classes(mask: np.ndarray, h: int, w: int, ignore_index: int = 255) -> np.ndarray:
    """Majority class of the mask pixels under each cell of an h x w grid over the image.

    Args:
        mask (np.ndarray): HxW class map (any size; cells map proportionally).
        h (int): Grid rows.
        w (int): Grid columns.
        ignore_index (int): Label left out of the vote. Defaults to 255.

    Returns:
        np.ndarray: h*w classes, row-major; ties go to the lower class, -1 marks a cell with
        only ignored pixels.
    """
    mask = np.asarray(mask).astype(np.int64)
    rows = np.arange(mask.shape[0]) * h // mask.shape[0]
    cols = np.arange(mask.shape[1]) * w // mask.shape[1]
    cell = rows[:, None] * w + cols[None, :]
    valid = mask != ignore_index
    ncls = int(mask[valid].max()) + 1 if valid.any() else 1
    counts = np.bincount(cell[valid] * ncls + mask[valid], minlength=h * w * ncls)
    counts = counts.reshape(h * w, ncls)
    return np.where(counts.sum(1) > 0, counts.argmax(1), -1)


def sample_cells(classes: np.ndarray, n: int, rng: np.random.Generator,
                 balance: bool = True) -> np.ndarray:
    """Draw up to ``n`` cells that have a class (>= 0).

    Args:
        classes (np.ndarray): Class per cell, -1 for none (see :func:`cell_classes`).
        n (int): Cells wanted.
        rng (np.random.Generator): Source of the draw.
        balance (bool): Take the classes in turn while they last, so a small structure is
            not drowned by background; else a uniform draw. Defaults to True.
    """
    perm = rng.permutation(np.flatnonzero(classes >= 0))
    if balance:
        rank = np.zeros(len(perm))
        for c in np.unique(classes[perm]):
            hit = classes[perm] == c
            rank[hit] = np.arange(hit.sum())
        perm = perm[np.argsort(rank, kind='stable')]
    return perm[:n]


def load_samples(cfg: Union[str, 'Config'], split: str = 'test', max_images: int = 50
                 ) -> Tuple[List[Sample], Optional[List[str]]]:
    """(image, mask) pairs spread evenly over a split's dataset, read with the test pipeline.

    Args:
        cfg (str | Config): Segmentation config with ``{split}_dataloader``.
        split (str): 'train', 'val' or 'test'. Defaults to 'test'.
        max_images (int): At most this many images, evenly spaced. Defaults to 50.

    Returns:
        tuple: The samples and the dataset's class names (None when it declares none).
    """
    cfg = _mmseg_config(cfg)
    key = f'{split}_dataloader'
    if split not in ('train', 'val', 'test') or not cfg.get(key):
        raise ValueError(f'split {split!r}: the config has no {key}')
    if max_images < 1:
        raise ValueError(f'max_images must be >= 1, got {max_images!r}')
    from mmseg.registry import DATASETS
    ds_cfg = copy.deepcopy(cfg[key]['dataset'])
    ds_cfg['pipeline'] = copy.deepcopy(cfg.test_dataloader.dataset.pipeline)  # no augmentation
    dataset = DATASETS.build(ds_cfg)
    if len(dataset) == 0:
        raise ValueError(f'the {split} dataset of the config is empty')
    samples = []
    for i in np.unique(np.linspace(0, len(dataset) - 1, min(max_images, len(dataset))).round()):
        item = dataset[int(i)]
        if 'gt_sem_seg' not in item['data_samples']:
            raise ValueError(f'{split} pipeline gives no gt_sem_seg: add LoadAnnotations')
        samples.append((item['inputs'].numpy().transpose(1, 2, 0),
                        item['data_samples'].gt_sem_seg.data[0].numpy()))
    classes = dataset.metainfo.get('classes')
    return samples, (list(classes) if classes else None)
