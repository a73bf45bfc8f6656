"""Helpers of the host-free data tests: where the real HC18 subset is, tiny media writers."""
import os.path as osp
from pathlib import Path

import cv2

HC18_DIR = '/work/shared/data/hc18'


def hc18_available() -> bool:
    return osp.isfile(osp.join(HC18_DIR, 'training_set_pixel_size_and_HC.csv'))


def write_mjpg_avi(path, frames) -> int:
    """Write uint8 HxW grey frames to an MJPG AVI; returns the number written."""
    h, w = frames[0].shape
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*'MJPG'), 10, (w, h))
    assert writer.isOpened(), 'OpenCV cannot write MJPG AVI here'
    for f in frames:
        writer.write(cv2.cvtColor(f, cv2.COLOR_GRAY2BGR))
    writer.release()
    return len(frames)
