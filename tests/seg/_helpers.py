"""Helpers for the segmentation tests: tiny image/mask folders written on the fly."""
import os
import os.path as osp
from typing import Dict, List, Sequence, Tuple

import cv2
import numpy as np

HC18_DIR = '/work/shared/data/hc18'


def write_seg_tree(root: str, patients: Dict[str, Sequence[str]], frames: int = 2,
                   size: Tuple[int, int] = (48, 64), n_classes: int = 2,
                   name_fmt: str = '{patient}_{frame:03d}', seed: int = 0) -> List[str]:
    """Write ``root/images/<split>/<name>.png`` and ``root/masks/<split>/<name>.png``.

    Each mask holds a disc per foreground class on a background of 0; the image is noise plus
    a brighter disc, so a model has something to learn. Returns the image paths written.
    """
    rng = np.random.default_rng(seed)
    h, w = size
    written = []
    for split, names in patients.items():
        os.makedirs(osp.join(root, 'images', split), exist_ok=True)
        os.makedirs(osp.join(root, 'masks', split), exist_ok=True)
        for patient in names:
            for frame in range(frames):
                mask = np.zeros((h, w), np.uint8)
                for label in range(1, n_classes):
                    cx, cy = int(rng.integers(w // 4, 3 * w // 4)), int(rng.integers(h // 4,
                                                                                     3 * h // 4))
                    cv2.circle(mask, (cx, cy), int(rng.integers(4, min(h, w) // 4)), label, -1)
                image = rng.integers(0, 60, (h, w)).astype(np.uint8)
                image[mask > 0] += 120
                stem = name_fmt.format(patient=patient, frame=frame)
                cv2.imwrite(osp.join(root, 'images', split, stem + '.png'), image)
                cv2.imwrite(osp.join(root, 'masks', split, stem + '.png'), mask)
                written.append(osp.join(root, 'images', split, stem + '.png'))
    return written


def hc18_available() -> bool:
    return osp.isfile(osp.join(HC18_DIR, 'training_set_pixel_size_and_HC.csv'))
