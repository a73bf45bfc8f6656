"""Unlabelled ultrasound data for pretraining (registered into mmpretrain).

The host-free parts (finding and decoding media, the exclusion of evaluation images) are in
:mod:`mmssl_us.data.media` and :mod:`mmssl_us.data.exclusion`.
"""
from .clip_pair import ClipPairMultiView, LoadClipPair
from .loading import LoadUltrasoundFrame, RepeatGreyChannels, to_grey_uint8
from .unlabelled import UltrasoundUnlabelledDataset

__all__ = ['LoadClipPair', 'ClipPairMultiView', 'LoadUltrasoundFrame', 'RepeatGreyChannels', 'UltrasoundUnlabelledDataset',
           'to_grey_uint8']
