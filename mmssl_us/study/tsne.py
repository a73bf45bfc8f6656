"""t-SNE of dense backbone features: how each checkpoint arranges the pixels of labelled images.

For every checkpoint the segmentation model of one config is built afresh, its backbone loaded
(from a full mmseg checkpoint or a backbone-only state_dict), and the last backbone stage's
feature map computed per image. Points are feature-map cells; a cell's class is the majority
mask class of the pixels it covers. The same cells are used for every checkpoint. Features are
L2-normalised per point (random and pretrained backbones differ in scale, which would otherwise
dominate distances), reduced by PCA to at most 50 dimensions, then embedded by sklearn's t-SNE.
The figure is backed by a number: leave-one-out k-NN balanced accuracy of the class in the
normalised feature space. :func:`run_tsne` is the whole analysis (tools/analysis/tsne.py and
the study runner call it). Host libraries (mmengine, mmseg, sklearn) are imported lazily.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, List, Optional, Sequence, Union

import numpy as np

if TYPE_CHECKING:  # host types, for annotations only
    from matplotlib.figure import Figure
    from mmengine.config import Config

from ..fileio import atomic_savefig
from .features import (LoadReport, Sample, _mmseg_config, build_model, cell_classes,  # noqa: F401
                       dense_features, load_backbone, load_samples, sample_cells)


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
    # wrap=True: one panel is narrower than the title, which would be clipped at both edges
    fig.suptitle(f't-SNE of last-stage backbone features, coloured by {what}', fontsize=11,
                 wrap=True)
    fig.tight_layout()
    atomic_savefig(fig, out)
    return fig


def run_tsne(cfg: Union[str, 'Config'], checkpoints: Sequence[str],
             labels: Optional[Sequence[str]] = None, out: str = 'tsne.png', split: str = 'test',
             max_images: int = 50, color: str = 'class', points_per_image: int = 64,
             seed: int = 0, balance: bool = True, allow_missing: bool = False,
             device: Optional[str] = None,
             log: Callable[[str], None] = print) -> List[Embedding]:
    """Samples of ``split``, one embedding per checkpoint, the figure at ``out``, and a report
    (what loaded, the k-NN score) through ``log``. Arguments as in :func:`embed_checkpoints`;
    ``labels`` default to the file names, ``device`` to cuda when available."""
    import torch
    labels = list(labels or [c.rsplit('/', 1)[-1] for c in checkpoints])
    samples, classes = load_samples(cfg, split, max_images)
    device = device or ('cuda' if torch.cuda.is_available() else 'cpu')
    embeddings = embed_checkpoints(cfg, checkpoints, labels, samples, points_per_image, seed,
                                   balance=balance, allow_missing=allow_missing, device=device)
    save_figure(embeddings, out, color, classes)
    log(f'{len(samples)} {split} images, {len(embeddings[0].classes)} points each panel')
    for emb in embeddings:
        r = emb.load
        log(f'{emb.label}: {r.kind} checkpoint {r.path}: {r.loaded} backbone tensors loaded, '
            f'{len(r.missing)} missing {r.missing[:5]}, {len(r.unexpected)} unexpected '
            f'{r.unexpected[:5]}, {r.ignored} non-backbone keys ignored')
        acc = 'n/a (one class)' if emb.knn_accuracy is None else f'{emb.knn_accuracy:.3f}'
        log(f'{emb.label}: {emb.k}-NN leave-one-out balanced class accuracy {acc}')
    log(f'figure: {out}')
    return embeddings
