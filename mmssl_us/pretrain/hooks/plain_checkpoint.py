"""Moved to :mod:`mmssl_us.engine.plain_checkpoint` (registered in mmengine's root registry, so
fine-tuning runs use it too); this import path keeps working."""
from ...engine.plain_checkpoint import TAG, PlainCheckpointHook, from_plain, to_plain

__all__ = ['PlainCheckpointHook', 'to_plain', 'from_plain', 'TAG']
