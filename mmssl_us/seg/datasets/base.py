"""What every ultrasound segmentation dataset of mmssl_us adds to mmseg's ``BaseSegDataset``.

* a clear error when the data root or a split folder is missing (saying how to get the data),
* the image/mask checks of :mod:`.checks`, run once at build time, including the per-split
  class counts (``class_counts``): a class that occurs in no mask of the split stops the build
  (its IoU would be NaN and quietly left out of the mean; an evaluation split without
  foreground would read mIoU 100) unless ``allow_absent_classes`` names it,
* one orientation rule: images are read as stored, EXIF orientation ignored (as the masks,
  the size checks and the leakage check read them), and a pair whose sizes differ so is
  stopped at build naming both files and the tag,
* a patient id per image (``patient_id`` in the data info), defined by each dataset,
* an optional patient-level label fraction (``label_fraction``, ``fraction_seed``), allowed on
  training datasets only, and a record of what it selected (``fraction_record``) that
  :class:`~mmssl_us.seg.engine.LabelFractionHook` writes into the work dir.
"""
from __future__ import annotations

import logging
import os.path as osp
from typing import Dict, List, Optional, Sequence

from mmengine.logging import print_log
from mmseg.datasets import BaseSegDataset

from ...data.fractions import check_fraction, select_fraction
from ...data.splits import patient_id
from ...validate import check_int, did_you_mean
from .checks import (check_class_presence, check_pairs, check_split_overlap, class_counts,
                     stored_orientation)

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
            readability) and that every class occurs in the split. Defaults to True.
        allow_absent_classes (Sequence[str]): Class names that may occur in no mask of this
            split: they are reported (a log warning and :attr:`absent_classes`) instead of
            stopping the build. The check counts the whole split folder, before any
            ``label_fraction`` (a fraction of the training patients may miss a rare class
            that the split has; that is the fraction's point, not a data error).
            Defaults to ().
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
                 allow_absent_classes: Sequence[str] = (),
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
        if isinstance(allow_absent_classes, str) or not all(
                isinstance(c, str) for c in allow_absent_classes):
            raise ValueError('allow_absent_classes must be a list of class names, got '
                             f'{allow_absent_classes!r}')
        self.allow_absent_classes = tuple(allow_absent_classes)
        #: class name -> dict(images=masks holding it, pixels=...) over the whole split folder
        #: (before the label fraction); None until checked (or with check_data=False)
        self.class_counts: Optional[Dict[str, Dict[str, int]]] = None
        #: classes of allow_absent_classes that the split indeed lacks (report them)
        self.absent_classes: List[str] = []
        self.fraction_record: Optional[dict] = None
        # one orientation rule for every reader: pixels as stored (checks.stored_orientation)
        if kwargs.get('pipeline') is not None:
            kwargs['pipeline'] = stored_orientation(kwargs['pipeline'])
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
            if all(mask for _, mask in pairs):
                self._check_classes([mask for _, mask in pairs])
        for info in data_list:
            info['patient_id'] = self.patient_of(info['img_path'])
        return self._apply_fraction(data_list)

    def _check_classes(self, masks: List[str]) -> None:
        """Count the classes over the whole split and stop on an absent one (class docs)."""
        classes = list(self.metainfo['classes'])
        unknown = [c for c in self.allow_absent_classes if c not in classes]
        if unknown:
            raise ValueError(f'allow_absent_classes names {unknown[0]!r}, which is not one of '
                             f'the classes {classes}{did_you_mean(unknown[0], classes)}')
        self.class_counts = class_counts(masks, classes, self.reduce_zero_label,
                                         self.label_map, self.ignore_index)
        where = self.data_prefix.get('seg_map_path', '') or osp.dirname(masks[0])
        self.absent_classes = check_class_presence(self.class_counts, len(masks), where,
                                                   self.allow_absent_classes)
        if self.absent_classes:
            print_log(f'{type(self).__name__}: class(es) {self.absent_classes} occur in none of '
                      f'the {len(masks)} masks of {where}; allowed by allow_absent_classes: '
                      'their IoU is NaN and left out of the mean', logger='current',
                      level=logging.WARNING)

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
