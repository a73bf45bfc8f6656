"""Any ultrasound dataset laid out as image and mask folders, with classes from the config."""
from mmseg.registry import DATASETS

from .base import UltrasoundSegDataset

__all__ = ['UltrasoundFolderDataset']


@DATASETS.register_module()
class UltrasoundFolderDataset(UltrasoundSegDataset):
    """Generic ``img_dir``/``ann_dir`` segmentation dataset whose classes come from the config.

    Labels: whatever ``metainfo=dict(classes=(...))`` lists, label ``i`` being ``classes[i]``
    (label 0 is usually the background); 255 is ignored.

    Expected files: images ``<data_prefix.img_path>/**/<stem><img_suffix>`` and masks
    ``<data_prefix.seg_map_path>/**/<stem><seg_map_suffix>`` (single-channel uint8, same size).
    The patient id is the file stem up to the first ``_``.

    Example::

        dataset = dict(type='UltrasoundFolderDataset', data_root='data/thyroid',
                       metainfo=dict(classes=('background', 'nodule')),
                       data_prefix=dict(img_path='img_dir/train', seg_map_path='ann_dir/train'))
    """
    METAINFO: dict = dict()
    HOW_TO_GET = ('Give data_root and data_prefix=dict(img_path=..., seg_map_path=...) pointing '
                  'at existing image and mask folders.')

    def __init__(self, **kwargs) -> None:
        classes = (kwargs.get('metainfo') or {}).get('classes')
        if not classes:
            raise ValueError('UltrasoundFolderDataset needs metainfo=dict(classes=(...)) in its '
                             f'config, got metainfo={kwargs.get("metainfo")!r}')
        super().__init__(**kwargs)
