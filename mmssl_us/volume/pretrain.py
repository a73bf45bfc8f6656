"""Models Genesis 3D pretraining of the exact network nnU-Net fine-tunes.

Models Genesis (Zhou et al., MICCAI 2019; Medical Image Analysis 67, 2021) trains an
encoder-decoder to restore sub-volumes from distorted copies. Here the network is the target
dataset's nnU-Net network (:func:`mmssl_us.volume.nnunet.build_network` with one output
channel, deep supervision off) and the sub-volumes are cut, at the plans' patch size, from the
unlabelled volumes preprocessed with the same plans (nnU-Net's own preprocessor: the same
spacing and normalisation as fine-tuning).

One sample: a random patch of a preprocessed volume (padded where smaller), read as [0, 1] by
its own minimum and maximum and quantised to 256 grey levels for the distortions of
:mod:`mmssl_us.transforms.genesis` (``ndim=3``: flips on three axes, local shuffling in 3D
blocks, the Bezier intensity map, in-/out-painting with 3D boxes). The network sees the
distorted patch mapped back to the preprocessed scale (so its input statistics are those
nnU-Net will feed it) and restores the undistorted patch in [0, 1] through a sigmoid, by mean
squared error. The weights before the first step are the same-start arm.
"""
import os
import os.path as osp
import time
from typing import Dict, List, Optional, Sequence

import numpy as np

from .nnunet import CONFIGURATION, build_network, save_pretrained

#: the distortions and their rates (the reference's; num_blocks smaller for CPU runs)
DEFAULT_DISTORTIONS = dict(flip=0.4, local=0.5, local_blocks=1000, nonlinear=0.9, paint=0.9,
                           outpaint=0.8)


def preprocess_volumes(files: Sequence[str], plans: dict, dataset_json: dict,
                       configuration: str = CONFIGURATION) -> List[np.ndarray]:
    """Preprocess single-channel volumes with nnU-Net's preprocessor of these plans.

    Returns:
        list[np.ndarray]: float32 arrays (C, D, H, W) in nnU-Net's preprocessed space.
    """
    from nnunetv2.utilities.plans_handling.plans_handler import PlansManager
    manager = PlansManager(plans)
    conf = manager.get_configuration(configuration)
    preprocessor = conf.preprocessor_class(verbose=False)
    out = []
    for path in files:
        data, _, _ = preprocessor.run_case([path], None, manager, conf, dataset_json)
        out.append(np.asarray(data, dtype=np.float32))
    return out


def build_distortions(cfg: Optional[Dict] = None) -> list:
    """The Models Genesis chain for volumes (``ndim=3``), in the reference's order."""
    from ..transforms.genesis import (BezierIntensityMap, GenesisFlip, GenesisPainting,
                                      KeepRestorationTarget, LocalPixelShuffle)
    c = dict(DEFAULT_DISTORTIONS, **(cfg or {}))
    return [KeepRestorationTarget(ndim=3), GenesisFlip(prob=c['flip'], ndim=3),
            LocalPixelShuffle(prob=c['local'], num_blocks=c['local_blocks'], ndim=3),
            BezierIntensityMap(prob=c['nonlinear'], ndim=3),
            GenesisPainting(prob=c['paint'], outpaint_prob=c['outpaint'], ndim=3)]


def random_patch(volume: np.ndarray, patch: Sequence[int],
                 rng: np.random.Generator) -> np.ndarray:
    """A random (C, *patch) crop of a (C, D, H, W) volume, edge-padded where it is smaller."""
    pad = [(0, 0)] + [(0, max(0, p - n)) for p, n in zip(patch, volume.shape[1:])]
    if any(after for _, after in pad):
        volume = np.pad(volume, pad, mode='edge')
    starts = [int(rng.integers(0, n - p + 1)) for p, n in zip(patch, volume.shape[1:])]
    index = (slice(None), ) + tuple(slice(s, s + p) for s, p in zip(starts, patch))
    return volume[index]


def make_sample(volume: np.ndarray, patch: Sequence[int], distortions: list,
                rng: np.random.Generator):
    """(input, target): the distorted patch on the preprocessed scale, the clean one in
    [0, 1]; both float32 (1, D, H, W). Uses numpy's global state for the distortions."""
    crop = random_patch(volume, patch, rng)[0]
    low, high = float(crop.min()), float(crop.max())
    scale = max(high - low, 1e-6)
    grey = np.clip(np.round((crop - low) / scale * 255.0), 0, 255).astype(np.uint8)
    results = dict(img=grey)
    for t in distortions:
        results = t(results)
    distorted = results['img'].astype(np.float32) / 255.0
    target = results['gt_img'].astype(np.float32) / 255.0
    return (distorted * scale + low)[None], target[None]


def pretrain_genesis(volumes: List[np.ndarray], plans: dict, dataset_json: dict,
                     out_dir: str, steps: int = 50, batch_size: int = 2, lr: float = 1e-3,
                     seed: int = 0, configuration: str = CONFIGURATION,
                     distortions: Optional[Dict] = None,
                     log_every: int = 10) -> Dict[str, object]:
    """Pretrain the plans' network by Models Genesis restoration; write both hand-off files.

    Writes ``out_dir/same_start.pth`` (the weights before the first step) and
    ``out_dir/genesis.pth`` (after ``steps`` Adam steps), each verified against a freshly
    built fine-tuning network of ``plans`` (:func:`mmssl_us.volume.nnunet.save_pretrained`).

    Returns:
        dict: paths, the loss curve (step, loss) and the seconds taken.
    """
    import torch
    if not volumes:
        raise ValueError('no unlabelled volumes to pretrain on')
    torch.manual_seed(seed)
    np.random.seed(seed)
    rng = np.random.default_rng(seed)
    net = build_network(plans, dataset_json, configuration, num_outputs=1,
                        deep_supervision=False)
    patch = list(plans['configurations'][configuration]['patch_size'])
    chain = build_distortions(distortions)
    os.makedirs(out_dir, exist_ok=True)
    meta = dict(seed=seed, steps=steps, batch_size=batch_size, lr=lr, patch_size=patch)
    same_start = save_pretrained(net, osp.join(out_dir, 'same_start.pth'), plans, dataset_json,
                                 configuration, dict(arm='same_start', **meta))
    optim = torch.optim.Adam(net.parameters(), lr=lr)
    curve, start = [], time.time()
    net.train()
    for step in range(steps):
        pairs = [make_sample(volumes[int(rng.integers(len(volumes)))], patch, chain, rng)
                 for _ in range(batch_size)]
        x = torch.from_numpy(np.stack([p[0] for p in pairs]))
        y = torch.from_numpy(np.stack([p[1] for p in pairs]))
        loss = torch.nn.functional.mse_loss(torch.sigmoid(net(x)), y)
        optim.zero_grad()
        loss.backward()
        optim.step()
        if step % log_every == 0 or step == steps - 1:
            curve.append((step, loss.item()))
    genesis = save_pretrained(net, osp.join(out_dir, 'genesis.pth'), plans, dataset_json,
                              configuration, dict(arm='genesis', **meta))
    return dict(same_start=same_start, genesis=genesis, curve=curve,
                seconds=time.time() - start)
