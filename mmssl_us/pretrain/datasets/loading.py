"""The loading transforms in mmpretrain's registry too.

They live in :mod:`mmssl_us.transforms.loading`, registered in mmengine's root ``TRANSFORMS``
(which mmpretrain's and mmseg's pipelines search); registering the same classes here keeps the
scoped names ``mmpretrain.LoadUltrasoundFrame`` / ``mmpretrain.RepeatGreyChannels`` working.
"""
from mmpretrain.registry import TRANSFORMS

from ...data.media import to_grey_uint8
from ...transforms.loading import LoadUltrasoundFrame, RepeatGreyChannels

__all__ = ['LoadUltrasoundFrame', 'RepeatGreyChannels', 'to_grey_uint8']

for _cls in (LoadUltrasoundFrame, RepeatGreyChannels):
    if _cls.__name__ not in TRANSFORMS.module_dict:
        TRANSFORMS.register_module(module=_cls)
