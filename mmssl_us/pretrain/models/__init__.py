"""Pretraining algorithms and layers (registered into mmpretrain)."""
from .densecl import UltrasoundDenseCL
from .ema import check_ema_momentum
from .genesis import GenesisDecoder, ModelsGenesis
from .moco import UltrasoundMoCo
from .queue import (MAX_AUTO_QUEUE_LEN, NegativeQueueMixin, check_queue_len,
                    resolve_queue_len)
from .split_bn import SplitBatchNorm2d
from .unet_encoder import UNetEncoder

__all__ = [
    'UltrasoundDenseCL', 'UltrasoundMoCo', 'SplitBatchNorm2d', 'NegativeQueueMixin',
    'MAX_AUTO_QUEUE_LEN', 'check_queue_len', 'resolve_queue_len', 'check_ema_momentum',
    'ModelsGenesis', 'GenesisDecoder', 'UNetEncoder'
]
