"""Size and check the negative-key queue of MoCo-style models before training starts."""
import torch
from mmengine.dist import get_world_size
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.runner import BaseLoop
from mmpretrain.registry import HOOKS

from ...validate import check_int
from ..models.queue import MAX_AUTO_QUEUE_LEN, check_queue_len, resolve_queue_len


@HOOKS.register_module()
class NegativeQueueHook(Hook):
    """Resolve ``queue_len='auto'`` from the training data and validate a fixed ``queue_len``.

    Runs in ``before_run``, i.e. after the train data loader is built and *before* a checkpoint
    is loaded or resumed, so a resumed queue has the shape it was saved with. For
    ``queue_len='auto'`` it calls the model's ``resize_queues`` with
    :func:`~mmssl_us.pretrain.models.queue.resolve_queue_len` of the data set size, the batch
    size and the world size; for an int it raises a ``ValueError`` naming all three when the
    queue is not a multiple of the global batch (upstream only asserts during the first update),
    and warns when the queue is longer than the data set (stale duplicate keys). Both need
    ``drop_last=True``: a short last batch breaks the fixed-stride queue update.

    A checkpoint's queues are kept when it is loaded (``after_load_checkpoint``, before the
    weights reach the model): with ``queue_len='auto'`` the queues take the checkpoint's
    length, so a run written by 2 processes resumes under 1 (whose own rule would give another
    length) with the keys it saved instead of mmengine's "size mismatch" warning and fresh
    random queues. The saved length must be a multiple of the new global batch; a pointer that
    is not is made 0 by rotating the saved queue (the same keys, in the same order of
    replacement).

    Args:
        max_len (int): Upper bound of the automatic length. Defaults to 65536.
    """

    priority = 'VERY_HIGH'

    def __init__(self, max_len: int = MAX_AUTO_QUEUE_LEN) -> None:
        self.max_len = check_int('max_len', max_len, low=1)

    def before_run(self, runner) -> None:
        """Size or check the queue (only when a training loop has been built)."""
        if not isinstance(runner._train_loop, BaseLoop):
            return  # runner.test() / runner.val(): nothing to train, nothing to size
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        if not hasattr(model, 'queue_len') or not hasattr(model, 'queue'):
            raise TypeError(f'NegativeQueueHook needs a model with a negative-key queue '
                            f'(queue_len, queue), got {type(model).__name__}')
        loader = runner._train_loop.dataloader
        batch_size = getattr(loader, 'batch_size', None)
        if not isinstance(batch_size, int):
            raise ValueError('NegativeQueueHook needs train_dataloader.batch_size, got '
                             f'{batch_size!r}')
        if not getattr(loader, 'drop_last', False):
            raise ValueError('NegativeQueueHook: set train_dataloader.drop_last=True; a short '
                             f'last batch cannot refill a queue in steps of {batch_size}')
        world_size = get_world_size()
        dataset_size = len(loader.dataset)
        self._batch = (batch_size, world_size)
        self._auto = model.queue_len == 'auto'
        if model.queue_len == 'auto':
            queue_len = resolve_queue_len(dataset_size, batch_size, world_size, self.max_len)
            model.resize_queues(queue_len)
            runner.logger.info(
                f'NegativeQueueHook: queue_len="auto" -> {queue_len} (largest multiple of the '
                f'global batch {batch_size} x {world_size} <= min({dataset_size} samples, '
                f'{self.max_len}))')
            return
        check_queue_len(model.queue_len, batch_size, world_size)
        if model.queue_len > dataset_size:
            runner.logger.warning(
                f'NegativeQueueHook: queue_len={model.queue_len} exceeds the {dataset_size} '
                f'training samples: each image sits in the queue about '
                f'{model.queue_len / dataset_size:.1f} times, mostly as stale keys; consider '
                'queue_len="auto"')

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        """Fit the model's queues to a loaded checkpoint's (see the class docstring)."""
        batch = getattr(self, '_batch', None)
        state = checkpoint.get('state_dict')
        if batch is None or not isinstance(state, dict):
            return  # not training (test / val), or a checkpoint without weights
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        saved = {name: state.get(name) for name in model.queue_names}
        if any(q is None for q in saved.values()):
            return  # no queue in the file (e.g. another model's weights): nothing to keep
        lengths = {int(q.shape[1]) for q in saved.values()}
        if len(lengths) != 1:
            raise ValueError(f'the checkpoint\'s queues differ in length: '
                             f'{ {n: tuple(q.shape) for n, q in saved.items()} }')
        saved_len = lengths.pop()
        batch_size, world_size = batch
        global_batch = batch_size * world_size
        if saved_len != model.queue_len:
            if not self._auto:
                raise ValueError(
                    f'the checkpoint\'s queues hold {saved_len} keys but the config says '
                    f'queue_len={model.queue_len}: resume with queue_len={saved_len} or '
                    '"auto" (which keeps the saved length)')
            if saved_len % global_batch != 0:
                raise ValueError(
                    f'the checkpoint\'s queues hold {saved_len} keys, not a multiple of this '
                    f'run\'s global batch {global_batch} (batch_size={batch_size} x '
                    f'world_size={world_size}): resume with a global batch that divides '
                    f'{saved_len}')
            runner.logger.info(
                f'NegativeQueueHook: keeping the checkpoint\'s queue length {saved_len} '
                f'(queue_len="auto" gave {model.queue_len} for the global batch '
                f'{batch_size} x {world_size})')
            model.resize_queues(saved_len)
        for name, queue in saved.items():
            key = f'{name}_ptr'
            ptr = int(state[key]) if key in state else 0
            if ptr % global_batch:
                # e.g. written by 1 process at batch B, resumed by 2: the next global batch
                # would run past the end of the queue. Oldest key first, pointer at 0.
                state[name] = torch.roll(queue, shifts=-ptr, dims=1)
                state[key] = torch.zeros_like(state[key])
                runner.logger.info(f'NegativeQueueHook: {name} rotated by {ptr} so that its '
                                   f'pointer is a multiple of the global batch {global_batch}')
