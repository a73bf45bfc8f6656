"""Knee suprapatellar recess dataset (the layout written by the synthetic generator)."""
from mmseg.registry import DATASETS

from .base import UltrasoundSegDataset

__all__ = ['KneeRecessDataset']


@DATASETS.register_module()
class KneeRecessDataset(UltrasoundSegDataset):
    """Knee ultrasound with the distended suprapatellar recess outlined.

    Labels: 0 background (everything that is not recess fluid), 1 distended recess.

    Expected files (docs/CONTRACTS.md)::

        <data_root>/images/{train,val,test}/<patient>_<frame>.png   8-bit grey B-mode
        <data_root>/masks/{train,val,test}/<patient>_<frame>.png    uint8 labels, same size

    The patient id is the file stem up to the first ``_``. Keyword arguments (including
    ``label_fraction`` and ``fraction_seed``) are those of
    :class:`~mmssl_us.seg.datasets.base.UltrasoundSegDataset`.
    """
    METAINFO = dict(classes=('background', 'recess'), palette=[[0, 0, 0], [255, 200, 0]])
    HOW_TO_GET = ('Put the knee images under <data_root>/images/{train,val,test} and their '
                  'masks under <data_root>/masks/{train,val,test} (see docs/CONTRACTS.md), or '
                  'generate the synthetic default with '
                  '`python tools/generate_synthetic.py --out data/knee`.')
