"""Everything mmssl_us registers into mmsegmentation (never imports mmpretrain).

Importing this package (``custom_imports=dict(imports=['mmssl_us.seg'])`` in a config)
registers the ultrasound datasets, the label-fraction hook, the head-circumference metric and
the ``VerifiedPretrained`` weight initializer, registers the ultrasound transforms (through
``mmssl_us.transforms``) and ``PlainCheckpointHook`` (through ``mmssl_us.engine``, mmengine's
root registry) and installs safe checkpoint loading (``mmssl_us.checkpoint``).
"""
from .. import engine  # noqa: F401  (registers PlainCheckpointHook in mmengine's root)
from .. import transforms  # noqa: F401  (registers the ultrasound transforms)
from ..checkpoint import install

from .config_utils import format_cfg_options, seg_cfg_options
from .datasets import (CAMUSDataset, EchoNetDynamicDataset, HC18Dataset, KneeRecessDataset,
                       UltrasoundFolderDataset, UltrasoundSegDataset)
from .engine import CheckpointKeyError, LabelFractionHook, VerifiedPretrainedInit
from .metrics import HeadCircumferenceMetric

install()

__all__ = ['UltrasoundSegDataset', 'KneeRecessDataset', 'EchoNetDynamicDataset', 'CAMUSDataset',
           'HC18Dataset', 'UltrasoundFolderDataset', 'LabelFractionHook',
           'VerifiedPretrainedInit', 'CheckpointKeyError', 'HeadCircumferenceMetric',
           'seg_cfg_options', 'format_cfg_options']
