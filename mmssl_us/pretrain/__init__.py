"""Self-supervised pretraining on unlabelled ultrasound, registered into mmpretrain.

Importing this package (configs do it with ``custom_imports``) registers:

* datasets: ``UltrasoundUnlabelledDataset`` and the ``LoadUltrasoundFrame`` and
  ``RepeatGreyChannels`` transforms, and for frames of one clip as positive pairs
  ``LoadClipPair`` and ``ClipPairMultiView``;
* models: ``UltrasoundDenseCL``, ``UltrasoundMoCo``, ``ModelsGenesis`` with its
  ``GenesisDecoder``, ``UNetEncoder`` (mmseg UNet's encoder, under its parameter names) and
  the ``SplitBatchNorm2d`` norm layer;
* hooks: ``NegativeQueueHook``, ``SaveStartWeightsHook`` (the same-start control's weights),
  ``DenseProbeHook`` (the online segmentation probe) and ``PlainCheckpointHook`` (checkpoints
  that load with ``weights_only=True``);

and it imports :mod:`mmssl_us.transforms` (the ultrasound augmentations, in mmengine's root
``TRANSFORMS`` registry) and :mod:`mmssl_us.engine` (``PlainCheckpointHook``, in mmengine's root
``HOOKS`` registry) and installs safe checkpoint loading (:mod:`mmssl_us.checkpoint`).
It never imports mmsegmentation. The pretraining -> segmentation weight conversion lives in
:mod:`mmssl_us.transfer` (host-free, not imported here).
"""
from .. import engine  # noqa: F401  (registers PlainCheckpointHook in mmengine's root)
from .. import transforms  # noqa: F401  (registers the ultrasound transforms)
from ..checkpoint import install as _install_safe_checkpoints

from .datasets import (ClipPairMultiView, LoadClipPair, LoadUltrasoundFrame, RepeatGreyChannels,
                       UltrasoundUnlabelledDataset)
from .hooks import DenseProbeHook, NegativeQueueHook, PlainCheckpointHook, SaveStartWeightsHook
from .models import (GenesisDecoder, ModelsGenesis, SplitBatchNorm2d, UltrasoundDenseCL,
                     UltrasoundMoCo, UNetEncoder)

_install_safe_checkpoints()

__all__ = [
    'LoadUltrasoundFrame', 'RepeatGreyChannels', 'UltrasoundUnlabelledDataset', 'LoadClipPair',
    'ClipPairMultiView', 'UNetEncoder',
    'NegativeQueueHook', 'SaveStartWeightsHook', 'DenseProbeHook', 'PlainCheckpointHook',
    'SplitBatchNorm2d', 'UltrasoundDenseCL', 'UltrasoundMoCo', 'ModelsGenesis', 'GenesisDecoder'
]
