"""Synthetic images next to real musculoskeletal ultrasound (infant hip, NHBS SPJ dataset).

Reads /work/shared/data/nhbs_hip_spj (read-only) and skips where it is absent. The grain of
the speckle (how far the texture stays correlated along depth and across beams) and the
overall brightness of synthetic images must be of the same size as on the real scans.
"""
import glob
import os.path as osp

import cv2
import numpy as np
import pytest

from mmssl_us.synthetic import generate_frame

HIP = '/work/shared/data/nhbs_hip_spj/SPJ_dataset'
N = 12


def _half_width(img: np.ndarray, valid: np.ndarray, axis: int, max_lag: int = 20) -> float:
    """Lag (pixels) where the autocorrelation of the high-passed texture falls to 0.5."""
    f = img.astype(np.float64)
    low = cv2.GaussianBlur(f, (0, 0), 8)
    hp = f - low
    m = valid & (low > 20)  # textured tissue, not shadow or background
    m = cv2.erode(m.astype(np.uint8), np.ones((15, 15), np.uint8)).astype(bool)
    prev = 1.0
    for lag in range(1, max_lag + 1):
        a = hp[:-lag] if axis == 0 else hp[:, :-lag]
        b = hp[lag:] if axis == 0 else hp[:, lag:]
        mm = m[:-lag] & m[lag:] if axis == 0 else m[:, :-lag] & m[:, lag:]
        rho = np.mean(a[mm] * b[mm]) / np.sqrt(np.mean(a[mm]**2) * np.mean(b[mm]**2))
        if rho < 0.5:
            return lag - 1 + (prev - 0.5) / (prev - rho)
        prev = rho
    return float(max_lag)


@pytest.fixture(scope='module')
def real():
    files = sorted(glob.glob(osp.join(HIP, '**', '*.png'), recursive=True))
    if not files:
        pytest.skip(f'real hip images not found under {HIP}')
    imgs = [cv2.imread(f, cv2.IMREAD_GRAYSCALE) for f in files[::max(1, len(files) // N)][:N]]
    return [(im, im > 0) for im in imgs]


@pytest.fixture(scope='module')
def synthetic(real):
    size = real[0][0].shape
    return [(s.image, s.footprint) for s in (generate_frame(k, 0, size) for k in range(N))]


@pytest.mark.parametrize('axis,low,high', [(0, 0.67, 1.5), (1, 0.5, 2.0)])
def test_speckle_grain_matches_real_scans(real, synthetic, axis, low, high):
    r = np.median([_half_width(im, v, axis) for im, v in real])
    s = np.median([_half_width(im, v, axis) for im, v in synthetic])
    assert low < s / r < high, f'axis {axis}: synthetic {s:.2f} px, real {r:.2f} px'


def test_brightness_matches_real_scans(real, synthetic):
    r = np.median(np.concatenate([im[v] for im, v in real]))
    s = np.median(np.concatenate([im[v] for im, v in synthetic]))
    assert 0.5 < s / r < 2.0, f'median grey: synthetic {s}, real {r}'
