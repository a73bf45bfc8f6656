"""Segmentation metrics registered into mmseg's METRICS (mIoU/mDice come from mmseg)."""
from .ellipse import fit_mask_ellipse, mask_circumference, ramanujan_circumference
from .hc_metric import HeadCircumferenceMetric
from .per_class import PerClassIoUMetric

__all__ = ['HeadCircumferenceMetric', 'PerClassIoUMetric', 'fit_mask_ellipse', 'mask_circumference',
           'ramanujan_circumference']
