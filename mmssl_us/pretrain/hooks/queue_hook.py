"""Size and check the negative-key queue of MoCo-style models before training starts."""
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
