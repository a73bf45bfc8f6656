"""What every ultrasound segmentation dataset of mmssl_us adds to mmseg's ``BaseSegDataset``.

* a clear error when the data root or a split folder is missing (saying how to get the data),
* the image/mask checks of :mod:`.checks`, run once at build time,
* a patient id per image (``patient_id`` in the data info), defined by each dataset,
* an optional patient-level label fraction (``label_fraction``, ``fraction_seed``), allowed on
  training datasets only, and a record of what it selected (``fraction_record``) that
  :class:`~mmssl_us.seg.engine.LabelFractionHook` writes into the work dir.
"""
from __future__ import annotations

import os.path as osp
from typing import List, Optional

from mmseg.datasets import BaseSegDataset

from ...data.fractions import check_fraction, select_fraction
from ...data.splits import patient_id
from ...validate import check_int
from .checks import check_pairs, check_split_overlap

__all__ = ['UltrasoundSegDataset']


class UltrasoundSegDataset(BaseSegDataset):
    """Base of the mmssl_us datasets (not registered itself).

    Args:
        label_fraction (float): Fraction of the patients to keep, in (0, 1]. Only allowed on a
            training dataset (``test_mode=False``); evaluation splits are never subsampled.
            Defaults to 1.0.
        fraction_seed (int): Seed of the patient draw; subsets are nested across fractions for
            one seed. Defaults to 0.
        check_data (bool): Check every image/mask pair at build time (sizes, label values,
            readability). Defaults to True.
        img_suffix (str): Image suffix. Defaults to '.png'.
        seg_map_suffix (str): Mask suffix. Defaults to '.png'.
        **kwargs: Passed to :class:`mmseg.datasets.BaseSegDataset`.
    """
    #: Told to the user when the data root is missing: how to obtain/convert the data.
    HOW_TO_GET: str = ''

    def __init__(self,
                 label_fraction: float = 1.0,
                 fraction_seed: int = 0,
                 check_data: bool = True,
                 img_suffix: str = '.png',
                 seg_map_suffix: str = '.png',
                 **kwargs) -> None:
        check_fraction(label_fraction)
        if label_fraction < 1.0 and kwargs.get('test_mode', False):
            raise ValueError(f'label_fraction={label_fraction} on an evaluation dataset '
                             '(test_mode=True): fractions only ever apply to the train split')
        self.label_fraction = float(label_fraction)
        self.fraction_seed = check_int('fraction_seed', fraction_seed)
        self.check_data = check_data
        self.fraction_record: Optional[dict] = None
        super().__init__(img_suffix=img_suffix, seg_map_suffix=seg_map_suffix, **kwargs)

    @classmethod
    def patient_of(cls, img_path: str) -> str:
        """Patient id of an image: its file stem up to the first ``_``
        (:func:`mmssl_us.data.splits.patient_id`, the rule the pool exclusion uses too).

        Args:
            img_path (str): Image path.

        Returns:
            str: The patient id.
        """
        pid = patient_id(img_path, 'prefix')
        if not pid:
            raise ValueError(f'cannot read a patient id from {img_path}: the name must start '
                             'with "<patient>_"')
        return pid

    def _check_folders(self) -> None:
        if self.data_root is not None and not osp.isdir(self.data_root):
            raise FileNotFoundError(
                f'{type(self).__name__}: data root {self.data_root!r} not found (relative '
                f'paths are read from the working directory). {self.HOW_TO_GET}'.strip())
        for key, label in (('img_path', 'image'), ('seg_map_path', 'mask')):
            folder = self.data_prefix.get(key)
            if folder and not osp.isdir(folder):
                raise FileNotFoundError(
                    f'{type(self).__name__}: {label} folder {folder!r} not found. '
                    f'{self.HOW_TO_GET}'.strip())

    def _allowed_values(self) -> List[int]:
        classes = (type(self).METAINFO.get('classes') if self.label_map
                   else self.metainfo.get('classes'))
        if not classes:
            raise ValueError(f'{type(self).__name__} needs metainfo=dict(classes=...)')
        n_raw = len(classes) + (1 if self.reduce_zero_label else 0)
        return list(range(n_raw)) + [self.ignore_index]

    def load_data_list(self) -> List[dict]:
        """List the image/mask pairs, check them, add patient ids, apply the fraction."""
        self._check_folders()
        data_list = super().load_data_list()
        img_dir = self.data_prefix.get('img_path', '')
        if not data_list:
            raise ValueError(f'{type(self).__name__}: no *{self.img_suffix} images in '
                             f'{img_dir!r}')
        if self.check_data:
            pairs = [(d['img_path'], d.get('seg_map_path')) for d in data_list]
            # evaluation splits are decoded whole: a truncated image must not wait until the
            # evaluation after training to show up
            check_pairs(pairs, self._allowed_values(), where=img_dir,
                        decode_images=self.test_mode)
            if not self.test_mode:  # the training split, once: no patient or file shared
                check_split_overlap(img_dir, self.patient_of, self.img_suffix)
        for info in data_list:
            info['patient_id'] = self.patient_of(info['img_path'])
        return self._apply_fraction(data_list)

    def _apply_fraction(self, data_list: List[dict]) -> List[dict]:
        paths = [d['img_path'] for d in data_list]
        keep = set(select_fraction(paths, self.label_fraction, self.fraction_seed,
                                   self.patient_of))
        selected = [d for d in data_list if d['img_path'] in keep]
        self.fraction_record = dict(
            dataset=type(self).__name__,
            fraction=self.label_fraction,
            seed=self.fraction_seed,
            img_dir=self.data_prefix.get('img_path', ''),
            n_patients_total=len({d['patient_id'] for d in data_list}),
            n_patients=len({d['patient_id'] for d in selected}),
            n_images_total=len(data_list),
            files=[d['img_path'] for d in selected])
        return selected
