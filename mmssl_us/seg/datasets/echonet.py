"""EchoNet-Dynamic left-ventricle dataset (frames written by the EchoNet converter)."""
import os.path as osp

from mmseg.registry import DATASETS

from .base import UltrasoundSegDataset

__all__ = ['EchoNetDynamicDataset']


@DATASETS.register_module()
class EchoNetDynamicDataset(UltrasoundSegDataset):
    """EchoNet-Dynamic apical-4-chamber frames at end-diastole and end-systole.

    Labels: 0 background, 1 left ventricle (the traced endocardial area).

    Expected files (written by ``tools/dataset_converters/echonet.py``)::

        <data_root>/images/{train,val,test}/<FileName>_{ED,ES}.png   112x112 grey frames
        <data_root>/masks/{train,val,test}/<FileName>_{ED,ES}.png    uint8 labels

    The patient id is the video ``FileName`` (one video per patient in EchoNet-Dynamic), i.e.
    the stem without its last ``_ED``/``_ES`` part, so both frames of a video stay together.
    """
    METAINFO = dict(classes=('background', 'left ventricle'),
                    palette=[[0, 0, 0], [220, 20, 60]])
    HOW_TO_GET = ('Request EchoNet-Dynamic at https://echonet.github.io/dynamic/ and convert '
                  'it with `python tools/dataset_converters/echonet.py <EchoNet-Dynamic folder> '
                  '--out data/echonet`.')

    @classmethod
    def patient_of(cls, img_path: str) -> str:
        """Video ``FileName`` of a frame: the stem without the trailing ``_ED``/``_ES``."""
        stem = osp.splitext(osp.basename(img_path))[0]
        video, sep, phase = stem.rpartition('_')
        if not sep or not video or phase not in ('ED', 'ES'):
            raise ValueError(f'cannot read the EchoNet video name from {img_path}: expected '
                             '<FileName>_ED.png or <FileName>_ES.png')
        return video
