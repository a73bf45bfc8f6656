"""Training hooks (registered into mmpretrain; ``PlainCheckpointHook`` is re-exported from
:mod:`mmssl_us.engine`, mmengine's root registry)."""
from .dense_probe import DenseProbeHook
from .plain_checkpoint import PlainCheckpointHook
from .queue_hook import NegativeQueueHook
from .start_weights import SaveStartWeightsHook

__all__ = ['DenseProbeHook', 'NegativeQueueHook', 'PlainCheckpointHook', 'SaveStartWeightsHook']
