"""The negative-key queue of MoCo-style methods, sized for small data sets.

mmpretrain's MoCo and DenseCL keep ``queue_len`` keys (default 65536, chosen for ImageNet's
1.28 M images) and fill the queue one global batch at a time, asserting deep inside the update
that ``queue_len`` is a multiple of the global batch. On a few thousand images a 65536 queue
holds every image about ``65536 / N`` times, mostly keys of outdated encoders.

The rule used for ``queue_len='auto'``: **the largest multiple of the global batch that is at
most the number of training images (and at most 65536)**. Every key in the queue then comes from
the last epoch's worth of samples: the queue never holds the same image twice from one epoch,
and with a fresh shuffle every epoch a query meets a stale key of its own image as a negative
with probability ``K (K + B) / (2 N^2)``, about ``(K / N)^2 / 2`` (``K`` the queue length, ``B``
the global batch, ``N`` the number of images): at most about one half.
"""
from typing import Sequence, Union

import torch
from mmengine.dist import all_gather, broadcast, get_world_size
from torch import Tensor, nn

from ...validate import check_int

QueueLen = Union[int, str]

#: upper bound of the automatic rule: the queue length of MoCo v2 / DenseCL on ImageNet.
MAX_AUTO_QUEUE_LEN = 65536


def resolve_queue_len(dataset_size: int, batch_size: int, world_size: int = 1,
                      max_len: int = MAX_AUTO_QUEUE_LEN) -> int:
    """Largest multiple of the global batch ``batch_size * world_size`` that is
    ``<= min(dataset_size, max_len)``.

    Args:
        dataset_size (int): Number of training samples.
        batch_size (int): Samples per process and iteration.
        world_size (int): Number of processes. Defaults to 1.
        max_len (int): Upper bound. Defaults to 65536.

    Returns:
        int: The queue length.

    Raises:
        ValueError: a non-positive argument, or fewer samples than one global batch.
    """
    for name, value in (('dataset_size', dataset_size), ('batch_size', batch_size),
                        ('world_size', world_size), ('max_len', max_len)):
        check_int(name, value, low=1)
    global_batch = batch_size * world_size
    bound = min(dataset_size, max_len)
    if bound < global_batch:
        raise ValueError(
            f'queue_len="auto": {dataset_size} training samples (max_len={max_len}) are fewer '
            f'than one global batch of {global_batch} (batch_size={batch_size} x '
            f'world_size={world_size}); lower the batch size or add data')
    return bound // global_batch * global_batch


def check_queue_len(queue_len: int, batch_size: int, world_size: int = 1) -> None:
    """Raise ``ValueError`` naming all three values unless ``queue_len`` is a multiple of the
    global batch ``batch_size * world_size``.

    Args:
        queue_len (int): Number of keys in the queue.
        batch_size (int): Samples per process and iteration.
        world_size (int): Number of processes. Defaults to 1.
    """
    check_int('queue_len', queue_len, low=1)
    check_int('batch_size', batch_size, low=1)
    check_int('world_size', world_size, low=1)
    global_batch = batch_size * world_size
    if queue_len % global_batch != 0:
        lower = queue_len // global_batch * global_batch
        hint = f'e.g. {lower} or ' if lower else ''
        raise ValueError(
            f'queue_len={queue_len} is not a multiple of the global batch {global_batch} '
            f'(batch_size={batch_size} x world_size={world_size}): the queue is refilled one '
            f'global batch at a time. Use {hint}{lower + global_batch}, or queue_len="auto" '
            'with the NegativeQueueHook (check also that train_dataloader.drop_last=True).')


class NegativeQueueMixin:
    """Queue handling shared by :class:`UltrasoundDenseCL` and :class:`UltrasoundMoCo`.

    The host class registers ``<name>`` (``feat_dim x queue_len``) and ``<name>_ptr`` buffers
    for every name in ``queue_names``; this mixin resizes them (``queue_len='auto'``) and
    replaces the host's bare ``assert`` by :func:`check_queue_len`.
    """

    queue_names: Sequence[str] = ('queue', )
    queue_len: QueueLen

    @staticmethod
    def _placeholder_len(queue_len: QueueLen) -> int:
        """Length allocated at construction: 1 until ``'auto'`` is resolved.

        Raises:
            ValueError: ``queue_len`` is neither ``'auto'`` nor a positive int.
        """
        if queue_len == 'auto':
            return 1
        if not isinstance(queue_len, int) or isinstance(queue_len, bool) or queue_len < 1:
            raise ValueError(f'queue_len must be a positive int or "auto", got {queue_len!r}')
        return queue_len

    @torch.no_grad()
    def resize_queues(self, queue_len: int) -> None:
        """Re-create every queue with ``queue_len`` random unit keys and reset its pointer.

        Rank 0's random keys are broadcast, so all processes start from the same queue.

        Args:
            queue_len (int): The new number of keys per queue.
        """
        check_int('queue_len', queue_len, low=1)
        for name in self.queue_names:
            old: Tensor = getattr(self, name)
            new = nn.functional.normalize(
                torch.randn(old.shape[0], queue_len, device=old.device, dtype=old.dtype), dim=0)
            broadcast(new, src=0)
            setattr(self, name, new)  # nn.Module keeps it a registered buffer
            getattr(self, f'{name}_ptr').zero_()
        self.queue_len = queue_len

    def _check_resolved(self) -> None:
        if self.queue_len == 'auto':
            raise RuntimeError(
                f'{type(self).__name__}: queue_len="auto" has not been resolved; add '
                'dict(type="NegativeQueueHook") to custom_hooks (it sizes the queue from the '
                'data set at the start of training) or call resize_queues(n) yourself')

    @torch.no_grad()
    def _enqueue(self, name: str, keys: Tensor) -> None:
        """Write the gathered keys (global batch x C) at the pointer of queue ``name``."""
        self._check_resolved()
        check_queue_len(int(self.queue_len), keys.shape[0], get_world_size())
        keys = torch.cat(all_gather(keys), dim=0)  # global batch x C
        queue: Tensor = getattr(self, name)
        ptr_buf: Tensor = getattr(self, f'{name}_ptr')
        ptr = int(ptr_buf)
        queue[:, ptr:ptr + keys.shape[0]] = keys.transpose(0, 1)
        ptr_buf[0] = (ptr + keys.shape[0]) % int(self.queue_len)

    def _dequeue_and_enqueue(self, keys: Tensor) -> None:
        self._enqueue(self.queue_names[0], keys)
