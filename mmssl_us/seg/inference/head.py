"""Head circumference of a prediction: the fitted ellipse, in pixels and, with a pixel size, mm."""
from __future__ import annotations

from typing import Dict, Optional, Tuple

import numpy as np

from ..metrics.ellipse import ellipse_circumference, fit_mask_ellipse

__all__ = ['HC_COLUMNS', 'head_row', 'pixel_sizes']

#: the summary columns of a head-circumference model
HC_COLUMNS = ('ellipse_cx', 'ellipse_cy', 'ellipse_width', 'ellipse_height', 'ellipse_angle',
              'hc_px', 'pixel_size_mm', 'hc_mm', 'note')


def pixel_sizes(csv_path: str) -> Dict[str, float]:
    """Pixel sizes (mm) by file name from an HC18-style CSV."""
    from ..datasets.hc18 import read_pixel_sizes
    return read_pixel_sizes(csv_path)


def head_row(label: np.ndarray, head_label: int, size: Optional[float]
             ) -> Tuple[dict, Optional[tuple], str]:
    """The summary fields of one prediction, the fitted ellipse (None when fewer than 5 contour
    points) and the text to draw beside it.

    The fit is :func:`mmssl_us.seg.metrics.ellipse.fit_mask_ellipse`, the one
    ``HeadCircumferenceMetric`` uses; ``size`` is mm per pixel or None (HC in pixels only).
    """
    row = {key: '' for key in HC_COLUMNS}
    text = ''
    fit = fit_mask_ellipse(label == head_label)
    if fit is None:
        row['note'] = 'no head ellipse (fewer than 5 contour points)'
    else:
        (cx, cy), (ew, eh), angle = fit
        hc_px = ellipse_circumference(fit)
        row.update(ellipse_cx=round(cx, 3), ellipse_cy=round(cy, 3), ellipse_width=round(ew, 3),
                   ellipse_height=round(eh, 3), ellipse_angle=round(angle, 3),
                   hc_px=round(hc_px, 3))
        if size is None:
            row['note'] = 'pixel size unknown: HC in pixels only'
            text = f'HC {hc_px:.1f} px'
        else:
            hc_mm = ellipse_circumference(fit, size)
            row.update(pixel_size_mm=size, hc_mm=round(hc_mm, 3))
            text = f'HC {hc_mm:.1f} mm'
    if size is not None and not row['pixel_size_mm']:
        row['pixel_size_mm'] = size
    return row, fit, text
