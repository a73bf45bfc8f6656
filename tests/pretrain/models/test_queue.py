"""Queue sizing rule, the named error for a bad queue length, and the queue mixin."""
import numpy as np
import pytest
import torch
from torch import nn

from mmssl_us.pretrain.models.queue import (NegativeQueueMixin, check_queue_len,
                                            resolve_queue_len)


@pytest.mark.parametrize('size, batch, world, expected', [
    (3750, 32, 1, 3744),          # 117 batches of 32
    (3750, 32, 2, 3712),          # 58 global batches of 64
    (96, 32, 1, 96),              # exactly three batches
    (10 ** 6, 32, 1, 65536),      # large data: capped at the paper's 65536
    (10 ** 6, 24, 1, 65520),      # ... rounded down to a multiple of the batch
])
def test_auto_rule_is_largest_multiple_of_global_batch(size, batch, world, expected):
    got = resolve_queue_len(size, batch, world)
    assert got == expected
    assert got % (batch * world) == 0 and got <= min(size, 65536)
    assert got + batch * world > min(size, 65536)  # the largest such multiple


def test_auto_rule_errors():
    with pytest.raises(ValueError, match=r'30 training samples.*global batch of 32'):
        resolve_queue_len(30, 32)
    with pytest.raises(ValueError, match='batch_size must be a positive int, got 0'):
        resolve_queue_len(100, 0)
    assert resolve_queue_len(1000, 8, max_len=100) == 96


def test_check_queue_len_message_names_all_values():
    check_queue_len(4096, 32, 2)  # a multiple: fine
    with pytest.raises(ValueError) as err:
        check_queue_len(100, 32, 2)
    msg = str(err.value)
    for part in ('queue_len=100', 'global batch 64', 'batch_size=32', 'world_size=2',
                 'e.g. 64 or 128'):
        assert part in msg


class _Queued(NegativeQueueMixin, nn.Module):
    queue_names = ('queue', 'queue2')

    def __init__(self, queue_len, dim=4):
        super().__init__()
        n = self._placeholder_len(queue_len)
        self.queue_len = queue_len
        for name in self.queue_names:
            self.register_buffer(name, torch.zeros(dim, n))
            self.register_buffer(f'{name}_ptr', torch.zeros(1, dtype=torch.long))


def test_resize_and_enqueue():
    m = _Queued('auto')
    with pytest.raises(RuntimeError, match='NegativeQueueHook'):
        m._enqueue('queue', torch.ones(2, 4))
    m.resize_queues(6)
    assert m.queue_len == 6 and m.state_dict()['queue2'].shape == (4, 6)
    torch.testing.assert_close(m.queue.norm(dim=0), torch.ones(6))  # random unit keys
    assert int(m.queue_ptr) == 0
    keys = torch.arange(8.).view(2, 4)
    m._enqueue('queue', keys)
    torch.testing.assert_close(m.queue[:, :2], keys.t())
    assert int(m.queue_ptr) == 2 and int(m.queue2_ptr) == 0
    with pytest.raises(ValueError, match=r'queue_len=6 .*batch_size=4 x world_size=1'):
        m._enqueue('queue', torch.ones(4, 4))


def test_stale_own_key_rate_matches_documented_formula():
    """Shuffled epochs, queue of K one-hot image ids: a query meets its own older key with
    probability K (K + B) / (2 N^2) (about (K/N)^2 / 2), the rationale of the auto rule."""
    n, b, k, epochs = 64, 8, 32, 150
    m = _Queued(k, dim=n)
    rng = np.random.default_rng(0)
    hits = total = 0
    for epoch in range(epochs):
        order = rng.permutation(n)
        for start in range(0, n, b):
            ids = torch.as_tensor(order[start:start + b])
            if epoch > 0:  # the first epoch still sees the initial queue
                hits += int((m.queue[ids] > 0).any(dim=1).sum())
                total += len(ids)
            m._enqueue('queue', nn.functional.one_hot(ids, n).float())
    expected = k * (k + b) / (2 * n * n)
    assert abs(hits / total - expected) < 0.02, (hits / total, expected)
