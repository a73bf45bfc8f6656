"""Drawing on overlays: palette classes blended into the image, the fitted head ellipse."""
from __future__ import annotations

from typing import Sequence

import cv2
import numpy as np

from ...validate import check_float

__all__ = ['overlay_mask', 'draw_head', 'ELLIPSE_COLOUR']

#: colour (BGR) of the fitted head ellipse drawn on overlays
ELLIPSE_COLOUR = (0, 255, 0)


def overlay_mask(image: np.ndarray, label: np.ndarray, palette: Sequence[Sequence[int]],
                 opacity: float = 0.5) -> np.ndarray:
    """Blend each non-black palette class of ``label`` into a BGR image.

    Args:
        image (np.ndarray): HxWx3 uint8 BGR image.
        label (np.ndarray): HxW label map.
        palette (Sequence): RGB colour per class (mmseg's convention).
        opacity (float): Weight of the class colour, in (0, 1]. Defaults to 0.5.

    Returns:
        np.ndarray: HxWx3 uint8 BGR overlay; pixels of black classes (and of labels beyond the
        palette) keep the image's values.
    """
    opacity = check_float('opacity', opacity, low=0, high=1, low_open=True)
    out = image.copy()
    for index, rgb in enumerate(palette):
        if not any(rgb):
            continue
        where = label == index
        if where.any():
            colour = np.array(rgb[::-1], np.float32)
            blended = image[where].astype(np.float32) * (1 - opacity) + colour * opacity
            out[where] = np.clip(np.round(blended), 0, 255).astype(np.uint8)
    return out


def draw_head(overlay: np.ndarray, fit, text: str) -> None:
    """Draw the fitted ellipse and its circumference ``text`` on ``overlay`` in place."""
    h, w = overlay.shape[:2]
    thick = max(1, int(round(min(h, w) / 250)))
    cv2.ellipse(overlay, fit, ELLIPSE_COLOUR, thick, cv2.LINE_8)
    scale = max(0.4, min(h, w) / 600)
    cv2.putText(overlay, text, (5, 5 + int(20 * scale)), cv2.FONT_HERSHEY_SIMPLEX, scale,
                ELLIPSE_COLOUR, thick, cv2.LINE_AA)
