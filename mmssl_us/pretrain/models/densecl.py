"""DenseCL for small ultrasound data sets: mmpretrain's DenseCL with a sized, checked queue."""
from typing import Dict, List, Optional, Union

import torch
from mmpretrain.models import DenseCL
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from ...validate import check_float
from .ema import check_ema_momentum
from .queue import NegativeQueueMixin, QueueLen


@MODELS.register_module()
class UltrasoundDenseCL(NegativeQueueMixin, DenseCL):
    """DenseCL (`Wang et al., CVPR 2021 <https://arxiv.org/abs/2011.09157>`_) for small data.

    The loss is mmpretrain's :class:`~mmpretrain.models.DenseCL` unchanged:
    ``(1 - loss_lambda) * single + loss_lambda * dense`` InfoNCE terms against two queues of
    negative keys. What changes:

    * ``queue_len='auto'`` sizes both queues from the data set at the start of training (see
      :mod:`mmssl_us.pretrain.models.queue` for the rule and :class:`NegativeQueueHook`), and a
      queue length that is not a multiple of the global batch raises a ``ValueError`` naming
      ``queue_len``, the batch size and the world size instead of a bare ``assert``.
    * ``momentum`` is validated and documented in the convention the code really uses.
      mmpretrain's docstring says "Defaults to 0.999", but its code defaults to 0.001 and passes
      it to :class:`mmengine.model.ExponentialMovingAverage`, which computes
      ``key = (1 - momentum) * key + momentum * query``: the paper's ``m = 0.999`` is
      ``momentum=0.001`` here.
    * The ``loss_lambda`` warm-up of the paper (``loss_lambda = 0`` for the first iterations)
      is mmpretrain's ``DenseCLHook``, which our configs add to ``custom_hooks``.

    Runs in one process without ``torch.distributed``: mmengine's ``all_gather`` and
    ``broadcast`` return the local tensor there. On one device the upstream key shuffle is a
    permutation inside one BN batch; use ``norm_cfg=dict(type='SplitBatchNorm2d')`` in the
    backbone to get multi-GPU BN groups back.

    Args:
        backbone (dict): Backbone config (e.g. ResNetV1c).
        neck (dict): Neck config (``DenseCLNeck``).
        head (dict): Head config (``ContrastiveHead``).
        queue_len (int | str): Keys per queue, a multiple of the global batch, or ``'auto'``.
            Defaults to 'auto'.
        feat_dim (int): Dimension of the projected keys. Defaults to 128.
        momentum (float): Online-encoder weight of the key-encoder EMA, ``1 - m``.
            Defaults to 0.001 (the paper's m = 0.999).
        loss_lambda (float): Weight of the dense loss in [0, 1]. Defaults to 0.5.
        pretrained (str, optional): Checkpoint to initialise from. Defaults to None.
        data_preprocessor (dict, optional): Pre-processor config. Defaults to None.
        init_cfg (dict | list[dict], optional): Initialisation config. Defaults to None.
    """

    queue_names = ('queue', 'queue2')

    def __init__(self,
                 backbone: dict,
                 neck: dict,
                 head: dict,
                 queue_len: QueueLen = 'auto',
                 feat_dim: int = 128,
                 momentum: float = 0.001,
                 loss_lambda: float = 0.5,
                 pretrained: Optional[str] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[Union[List[dict], dict]] = None) -> None:
        check_float('loss_lambda', loss_lambda, 0.0, 1.0)
        super().__init__(
            backbone=backbone,
            neck=neck,
            head=head,
            queue_len=self._placeholder_len(queue_len),
            feat_dim=feat_dim,
            momentum=check_ema_momentum(momentum),
            loss_lambda=float(loss_lambda),
            pretrained=pretrained,
            data_preprocessor=data_preprocessor,
            init_cfg=init_cfg)
        self.queue_len = queue_len

    def _dequeue_and_enqueue2(self, keys: torch.Tensor) -> None:
        self._enqueue('queue2', keys)

    def loss(self, inputs: List[torch.Tensor], data_samples: List[DataSample],
             **kwargs) -> Dict[str, torch.Tensor]:
        """DenseCL losses of two views: ``inputs = [query view, key view]``, each NxCxHxW.

        Returns:
            dict[str, Tensor]: ``loss_single`` and ``loss_dense``, already weighted.
        """
        self._check_resolved()
        if not isinstance(inputs, list) or len(inputs) != 2:
            raise ValueError('UltrasoundDenseCL needs two views per image (MultiView with '
                             f'num_views=2), got {type(inputs).__name__} of '
                             f'{len(inputs) if isinstance(inputs, list) else "?"}')
        if self.training:
            self._check_bn_values(inputs[0])
        return super().loss(inputs, data_samples, **kwargs)

    def _check_bn_values(self, view: torch.Tensor) -> None:
        """Say in words when the last stage's BN would see one value per channel (torch's
        "Expected more than 1 value per channel when training")."""
        splits = getattr(self, '_bn_groups', None)
        if splits is None:  # a property of the built backbone: looked up on the first step
            splits = max([1] + [int(getattr(m, 'num_splits', 1))
                                for m in self.backbone.modules()])
            self._bn_groups = splits
        n, _, h, w = view.shape
        cells = (n // splits) * max(1, -(-h // 32)) * max(1, -(-w // 32))
        if cells < 2:
            raise ValueError(
                f'views of {h}x{w} px at batch {n} (BN in {splits} group(s)) leave the last '
                'ResNet stage one value per channel to normalise: use views of at least 64 px '
                f'or a batch of at least {2 * splits}')
