"""CAMUS echocardiography dataset (2- and 4-chamber views, written by the CAMUS converter)."""
import os.path as osp
import re

from mmseg.registry import DATASETS

from .base import UltrasoundSegDataset

__all__ = ['CAMUSDataset']

_PATIENT = re.compile(r'(patient\d+)')


@DATASETS.register_module()
class CAMUSDataset(UltrasoundSegDataset):
    """CAMUS apical 2- and 4-chamber views at end-diastole and end-systole.

    Labels: 0 background, 1 left-ventricle endocardium (the cavity), 2 left-ventricle
    myocardium, 3 left atrium (the labels of the public CAMUS release).

    Expected files (written by ``tools/dataset_converters/camus.py``)::

        <data_root>/images/{train,val,test}/patientXXXX_{2CH,4CH}_{ED,ES}.png
        <data_root>/masks/{train,val,test}/patientXXXX_{2CH,4CH}_{ED,ES}.png

    The patient id is the ``patientXXXX`` part of the name.
    """
    METAINFO = dict(classes=('background', 'LV endocardium', 'LV myocardium', 'left atrium'),
                    palette=[[0, 0, 0], [255, 0, 0], [0, 255, 0], [0, 0, 255]])
    HOW_TO_GET = ('Download CAMUS from https://www.creatis.insa-lyon.fr/Challenge/camus/ and '
                  'convert it with `python tools/dataset_converters/camus.py <CAMUS folder> '
                  '--out data/camus`.')

    @classmethod
    def patient_of(cls, img_path: str) -> str:
        """The ``patientXXXX`` part of the file name."""
        match = _PATIENT.search(osp.basename(img_path))
        if match is None:
            raise ValueError(f'cannot read a CAMUS patient id from {img_path}: expected a '
                             'name like patient0001_2CH_ED.png')
        return match.group(1)
