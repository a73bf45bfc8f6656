"""HC18 fetal head dataset (written by the HC18 converter), with each image's pixel size."""
import os.path as osp
from typing import Dict, List

from mmseg.registry import DATASETS

from ...data.hc18_csv import pixel_sizes

from .base import UltrasoundSegDataset

__all__ = ['HC18Dataset', 'read_pixel_sizes']


def read_pixel_sizes(csv_path: str) -> Dict[str, float]:
    """Read ``filename -> pixel size (mm)`` from the CSV the HC18 converter writes.

    Args:
        csv_path (str): CSV with the columns ``filename`` and ``pixel size(mm)``, read by
            :func:`mmssl_us.data.hc18_csv.read_hc18_csv`.

    Returns:
        dict[str, float]: Pixel size in mm by image file name.
    """
    if not osp.isfile(csv_path):
        raise FileNotFoundError(f'HC18 pixel-size file not found: {csv_path} (written by '
                                'tools/dataset_converters/hc18.py)')
    return pixel_sizes(csv_path)


@DATASETS.register_module()
class HC18Dataset(UltrasoundSegDataset):
    """HC18 fetal head ultrasound (trans-thalamic plane) with filled head masks.

    Labels: 0 background, 1 fetal head (the filled ellipse of the skull outline).

    Expected files (written by ``tools/dataset_converters/hc18.py``)::

        <data_root>/images/{train,val,test}/NNN_HC.png or NNN_kHC.png   grey images
        <data_root>/masks/{train,val,test}/<same name>                   uint8 labels 0/1
        <data_root>/pixel_size.csv     filename, pixel size(mm), head circumference (mm), split

    Each data info gets ``pixel_size_mm`` (pack it with ``PackSegInputs(meta_keys=...)`` for
    :class:`~mmssl_us.seg.metrics.HeadCircumferenceMetric`). The patient id is the number before
    the first ``_``, so ``010_HC`` and ``010_2HC`` belong to one subject.

    Args:
        pixel_size_file (str): CSV of pixel sizes, relative to ``data_root``.
            Defaults to 'pixel_size.csv'.
        **kwargs: See :class:`~mmssl_us.seg.datasets.base.UltrasoundSegDataset`.
    """
    METAINFO = dict(classes=('background', 'fetal head'), palette=[[0, 0, 0], [0, 160, 255]])
    HOW_TO_GET = ('Download the HC18 training set (https://hc18.grand-challenge.org/, Zenodo '
                  '10.5281/zenodo.1327317) and convert it with `python '
                  'tools/dataset_converters/hc18.py <HC18 folder> --out data/hc18`.')

    def __init__(self, pixel_size_file: str = 'pixel_size.csv', **kwargs) -> None:
        self.pixel_size_file = pixel_size_file
        super().__init__(**kwargs)

    def load_data_list(self) -> List[dict]:
        """The checked pairs of the base class, each with ``pixel_size_mm``."""
        data_list = super().load_data_list()
        csv_path = self.pixel_size_file
        if self.data_root is not None and not osp.isabs(csv_path):
            csv_path = osp.join(self.data_root, csv_path)
        sizes = read_pixel_sizes(csv_path)
        for info in data_list:
            name = osp.basename(info['img_path'])
            if name not in sizes:
                raise ValueError(f'{csv_path} has no pixel size for {info["img_path"]}')
            info['pixel_size_mm'] = sizes[name]
        return data_list
