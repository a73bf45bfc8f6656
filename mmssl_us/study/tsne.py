"""t-SNE of dense backbone features: how each checkpoint arranges the pixels of labelled images.

For every checkpoint the segmentation model of one config is built afresh, its backbone loaded
(from a full mmseg checkpoint or a backbone-only state_dict), and the last backbone stage's
feature map computed per image. Points are feature-map cells; a cell's class is the majority
mask class of the pixels it covers. The same cells are used for every checkpoint. Features are
L2-normalised per point (random and pretrained backbones differ in scale, which would otherwise
dominate distances), reduced by PCA to at most 50 dimensions, then embedded by sklearn's t-SNE.
The figure is backed by a number: leave-one-out k-NN balanced accuracy of the class in the
normalised feature space. Host libraries (mmengine, mmseg, sklearn) are imported lazily.
"""
from __future__ import annotations

import copy
import importlib
import importlib.util
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, List, Optional, Sequence, Tuple, Union

import numpy as np

if TYPE_CHECKING:  # host types, for annotations only
    from matplotlib.figure import Figure
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


@dataclass
class Embedding:
    """The t-SNE of one checkpoint; rows of ``xy`` align with ``classes`` and ``images``."""
    label: str
    xy: np.ndarray
    classes: np.ndarray
    images: np.ndarray
    knn_accuracy: Optional[float]
    load: LoadReport
    k: int = 5


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
    sd = {k[7:] if k.startswith('module.') else k: v for k, v in sd.items()}
    full = any(k.startswith('backbone.') for k in sd)
    sub = {k[9:]: v for k, v in sd.items() if k.startswith('backbone.')} if full else sd
    own = model.backbone.state_dict()
    shape = [k for k in sub if k in own and tuple(own[k].shape) != tuple(sub[k].shape)]
    if shape:
        raise ValueError(f'{path}: shape mismatch for backbone keys {shape[:5]}')
    report = LoadReport(path, 'full' if full else 'backbone', sum(k in own for k in sub),
                        [k for k in own if k not in sub], [k for k in sub if k not in own],
                        len(sd) - len(sub))
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


def knn_accuracy(x: np.ndarray, y: np.ndarray, k: int = 5) -> Optional[float]:
    """Leave-one-out k-NN balanced accuracy (mean recall over classes), Euclidean distance.

    Args:
        x (np.ndarray): N x D points.
        y (np.ndarray): N class labels.
        k (int): Neighbours voting, in [1, N-1]; vote ties go to the class of the nearest
            tied neighbour. Defaults to 5.

    Returns:
        float | None: None when only one class is present (accuracy is meaningless).
    """
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y)
    if not 1 <= k < len(y):
        raise ValueError(f'k must be in [1, {len(y) - 1}], got {k!r}')
    if len(np.unique(y)) < 2:
        return None
    sq = (x * x).sum(1)
    d = sq[:, None] + sq[None, :] - 2.0 * x @ x.T
    np.fill_diagonal(d, np.inf)
    nn = np.argsort(d, axis=1, kind='stable')[:, :k]
    pred = np.empty_like(y)
    for i, labels in enumerate(y[nn]):
        vals, counts = np.unique(labels, return_counts=True)
        top = set(vals[counts == counts.max()])
        pred[i] = next(v for v in labels if v in top)
    return float(np.mean([np.mean(pred[y == c] == c) for c in np.unique(y)]))


def tsne_2d(x: np.ndarray, seed: int = 0, perplexity: float = 30.0) -> np.ndarray:
    """PCA to at most 50 dimensions, then sklearn's 2-D t-SNE with a fixed random_state.

    Args:
        x (np.ndarray): N x D features.
        seed (int): random_state of PCA and t-SNE. Defaults to 0.
        perplexity (float): t-SNE perplexity, capped at (N-1)/3. Defaults to 30.0.
    """
    from sklearn.decomposition import PCA
    from sklearn.manifold import TSNE
    dims = min(50, x.shape[0], x.shape[1])
    x = PCA(dims, svd_solver='full', random_state=seed).fit_transform(x)
    perp = min(perplexity, (x.shape[0] - 1) / 3.0)
    return TSNE(2, perplexity=perp, init='pca', random_state=seed).fit_transform(x)


def embed_checkpoints(cfg: Union[str, 'Config'], checkpoints: Sequence[str], labels: Sequence[str],
                      samples: Sequence[Sample], points_per_image: int = 64, seed: int = 0,
                      balance: bool = True, allow_missing: bool = False,
                      k: int = 5, device: str = 'cpu') -> List[Embedding]:
    """One t-SNE per checkpoint over the same cells of ``samples``; see the module docstring.

    Args:
        cfg (str | Config): mmseg config the model is built from.
        checkpoints (Sequence[str]): Checkpoint paths ('none': weights as built under ``seed``).
        labels (Sequence[str]): One name per checkpoint, used as panel titles.
        samples (Sequence[tuple]): (image, mask) pairs.
        points_per_image (int): Cells drawn per image. Defaults to 64.
        seed (int): Seed of cell sampling, model building and t-SNE. Defaults to 0.
        balance (bool): Draw the classes of an image in turn. Defaults to True.
        allow_missing (bool): See :func:`load_backbone`. Defaults to False.
        k (int): Neighbours of the k-NN score. Defaults to 5.
        device (str): Where features are computed, e.g. 'cuda'. Defaults to 'cpu'.
    """
    import torch
    if len(labels) != len(checkpoints):
        raise ValueError(f'{len(labels)} labels {list(labels)} for {len(checkpoints)} checkpoints')
    if points_per_image < 1 or not samples:
        raise ValueError(f'need samples and points_per_image >= 1, got {points_per_image!r}')
    cfg = _mmseg_config(cfg)  # parsed once for all checkpoints
    cells: List[Optional[np.ndarray]] = [None] * len(samples)
    cls: List[Optional[np.ndarray]] = [None] * len(samples)
    out = []
    for path, label in zip(checkpoints, labels):
        torch.manual_seed(seed)
        model = build_model(cfg)
        report = load_backbone(model, path, allow_missing)
        model.to(device)
        feats = []
        for i, (image, mask) in enumerate(samples):
            f = dense_features(model, image)
            if cells[i] is None:
                cc = cell_classes(mask, f.shape[1], f.shape[2])
                cells[i] = sample_cells(cc, points_per_image, np.random.default_rng(seed + i),
                                        balance)
                cls[i] = cc[cells[i]]
            feats.append(f.reshape(f.shape[0], -1)[:, cells[i]].T)
        x = np.concatenate(feats)
        x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
        y = np.concatenate(cls)
        img = np.concatenate([np.full(len(c), i) for i, c in enumerate(cls)])
        kk = min(k, len(y) - 1)
        out.append(Embedding(label, tsne_2d(x, seed), y, img, knn_accuracy(x, y, kk), report, kk))
    return out


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


def save_figure(embeddings: Sequence[Embedding], out: str, color: str = 'class',
                class_names: Optional[Sequence[str]] = None) -> 'Figure':
    """Save one figure with a panel per embedding, side by side.

    Args:
        embeddings (Sequence[Embedding]): From :func:`embed_checkpoints`.
        out (str): Image file to write.
        color (str): 'class' or 'image'. Defaults to 'class'.
        class_names (Sequence[str], optional): Legend names. Defaults to None.
    """
    from matplotlib import colormaps
    from matplotlib.figure import Figure
    if color not in ('class', 'image'):
        raise ValueError(f"color must be 'class' or 'image', got {color!r}")
    fig = Figure(figsize=(4.2 * len(embeddings), 4.6), dpi=110)
    for j, emb in enumerate(embeddings):
        ax = fig.add_subplot(1, len(embeddings), j + 1)
        acc = 'n/a (one class)' if emb.knn_accuracy is None else f'{emb.knn_accuracy:.3f}'
        ax.set_title(f'{emb.label}\n{emb.k}-NN balanced accuracy {acc}', fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])
        if color == 'image':
            ax.scatter(emb.xy[:, 0], emb.xy[:, 1], c=emb.images, cmap='viridis', s=5)
            continue
        for c in np.unique(emb.classes):
            hit = emb.classes == c
            name = class_names[c] if class_names and c < len(class_names) else f'class {c}'
            ax.scatter(emb.xy[hit, 0], emb.xy[hit, 1], s=5, color=colormaps['tab10'](c % 10),
                       label=name)
        ax.legend(markerscale=3, fontsize=8, loc='best')
    what = 'class' if color == 'class' else 'image index (viridis)'
    fig.suptitle(f't-SNE of last-stage backbone features, coloured by {what}', fontsize=11)
    fig.tight_layout()
    fig.savefig(out)
    return fig
