"""Training hooks (registered into mmpretrain)."""
from .queue_hook import NegativeQueueHook

__all__ = ['NegativeQueueHook']
