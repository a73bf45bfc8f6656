"""Fixtures shared by the transform tests: small synthetic B-mode-like images."""
import numpy as np
import pytest


def textured(mask: np.ndarray, seed: int = 0, dark_holes: bool = True) -> np.ndarray:
    """A uint8 image that is 0 outside ``mask`` and speckle-like (1..255) inside.

    With ``dark_holes`` a few anechoic (value 0) blobs are cut out of the inside, one of
    them touching the footprint's lower border, as fluid does in real frames.
    """
    rng = np.random.default_rng(seed)
    h, w = mask.shape
    img = np.clip(rng.rayleigh(60.0, size=(h, w)), 1, 255).astype(np.uint8)
    img[~mask] = 0
    if dark_holes:
        ys, xs = np.nonzero(mask)
        cy, cx = int(ys.mean()), int(xs.mean())
        yy, xx = np.mgrid[0:h, 0:w]
        img[(yy - cy)**2 + (xx - cx)**2 < (0.1 * h)**2] = 0  # interior cyst
        low = ys.max()
        img[(yy - low)**2 + (xx - cx)**2 < (0.06 * h)**2] = 0  # notch at the far border
    return img


@pytest.fixture
def make_textured():
    return textured
