"""Runner parts for every host (registered in mmengine's root registries; no mmpretrain, no
mmseg): :class:`PlainCheckpointHook` writes checkpoints as plain data."""
from .plain_checkpoint import PlainCheckpointHook, from_plain, to_plain

__all__ = ['PlainCheckpointHook', 'to_plain', 'from_plain']
