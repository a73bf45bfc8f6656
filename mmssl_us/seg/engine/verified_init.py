"""``VerifiedPretrained`` for the segmentation configs: re-exported from the host-free
:mod:`mmssl_us.transfer.init` (which mmdet and mmpretrain configs import directly).

Importing this module registers the initializer in mmengine's root ``WEIGHT_INITIALIZERS``.
"""
from ...transfer.init import (CheckpointKeyError, VerifiedPretrainedInit,
                                    extract_state_dict)

__all__ = ['VerifiedPretrainedInit', 'CheckpointKeyError', 'extract_state_dict']
