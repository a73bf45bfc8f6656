"""Positive pairs from two frames of one clip (or two images of one patient).

USCL (Chen et al., "USCL: Pretraining Deep Ultrasound Image Diagnosis Model through Video
Contrastive Representation Learning", MICCAI 2021) builds positives from different frames of
one ultrasound video instead of two crops of one frame: neighbouring frames show the same
anatomy under a slightly different probe position, speckle and (in echocardiography) cardiac
phase, a change no crop or intensity jitter makes. Here the two views of a sample come from
frame ``i`` and a frame ``j`` of the same clip with ``1 <= |i - j| <= max_distance``; for a
still image the partner is another image of the same patient where the pool names one. A clip
of one frame (or an image whose patient has no other image) falls back to two views of the one
frame, i.e. the stock two-crop pair.

Use it with ``UltrasoundUnlabelledDataset(clip_pairs=K)`` and, in the pipeline,
``LoadClipPair`` in place of ``LoadUltrasoundFrame`` and ``ClipPairMultiView`` in place of
``MultiView`` (``configs/_base_/pretrain/echonet_unlabelled.py``: ``clip_pipeline``). The model
is unchanged: SimCLR, BYOL, MoCo v2 and DenseCL all take two views per sample.
"""
import copy
from typing import Optional

import numpy as np
from mmcv.transforms import BaseTransform
from mmcv.transforms.utils import cache_randomness
from mmpretrain.datasets.transforms import MultiView
from mmpretrain.registry import TRANSFORMS

from .loading import LoadUltrasoundFrame

__all__ = ['LoadClipPair', 'ClipPairMultiView']


@TRANSFORMS.register_module()
class LoadClipPair(BaseTransform):
    """Load a sample's frame and its partner: another frame of its clip or image of its patient.

    Required Keys:

    - img_path, frame_index (None for an image)
    - clip_frames (frames of the video; set by ``UltrasoundUnlabelledDataset(clip_pairs=K)``)
    - pair_distance (K: the largest frame distance of a pair)
    - pair_paths (for an image: the other images of its patient; may be empty)

    Added Keys:

    - img, img_shape, ori_shape (the sample's frame, as ``LoadUltrasoundFrame``)
    - pair_img (the partner frame)
    - pair_path, pair_frame_index (where the partner came from)

    Args:
        channels (int): 1 or 3, as ``LoadUltrasoundFrame``. Defaults to 1.
    """

    def __init__(self, channels: int = 1) -> None:
        self.loader = LoadUltrasoundFrame(channels=channels)
        self.channels = self.loader.channels

    @cache_randomness
    def _draw(self, index: Optional[int], frames: int, distance: int, others: int):
        """(frame, other image) of the partner: a frame within ``distance`` of ``index`` other
        than itself, or one of ``others`` images (-1: the sample itself)."""
        if index is None:
            return None, (int(np.random.randint(others)) if others else -1)
        low, high = max(0, index - distance), min(frames - 1, index + distance)
        choices = [j for j in range(low, high + 1) if j != index]
        return (int(choices[np.random.randint(len(choices))]) if choices else index), -1

    def transform(self, results: dict) -> dict:
        if 'pair_distance' not in results:
            raise ValueError(
                f'LoadClipPair: the sample {results.get("img_path")} carries no clip '
                'information: build the dataset with UltrasoundUnlabelledDataset(clip_pairs=K)')
        index = results.get('frame_index')
        others = list(results.get('pair_paths') or [])
        frame, other = self._draw(None if index is None else int(index),
                                  int(results.get('clip_frames') or 1),
                                  int(results['pair_distance']), len(others))
        partner = dict(img_path=others[other] if other >= 0 else results['img_path'],
                       frame_index=frame)
        results = self.loader(results)
        partner = self.loader(partner)
        results['pair_img'] = partner['img']
        results['pair_path'] = partner['img_path']
        results['pair_frame_index'] = frame
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(channels={self.channels})'


@TRANSFORMS.register_module()
class ClipPairMultiView(MultiView):
    """mmpretrain's ``MultiView`` for two views, the second made from ``pair_img``.

    Each view runs its pipeline on a copy of the sample: the first on ``img``, the second on
    ``pair_img`` (put in ``img``), so both views are augmented as the stock two-crop views are.

    Args:
        transforms (list[list[dict]]): One pipeline (both views) or two (one per view).
    """

    def __init__(self, transforms, num_views=2) -> None:
        if (sum(num_views) if isinstance(num_views, (list, tuple)) else num_views) != 2:
            raise ValueError(f'ClipPairMultiView makes exactly 2 views, got num_views='
                             f'{num_views}')
        if isinstance(num_views, tuple):
            num_views = list(num_views)
        super().__init__(transforms, num_views)

    def transform(self, results: dict) -> dict:
        if 'pair_img' not in results:
            raise ValueError('ClipPairMultiView needs pair_img: put LoadClipPair before it')
        views = []
        for k, trans in enumerate(self.transforms):
            inputs = copy.deepcopy({key: v for key, v in results.items() if key != 'pair_img'})
            if k == 1:
                inputs['img'] = results['pair_img'].copy()
                inputs['img_shape'] = inputs['ori_shape'] = results['pair_img'].shape[:2]
            views.append(trans(inputs)['img'])
        results.pop('pair_img')
        results['img'] = views
        return results
