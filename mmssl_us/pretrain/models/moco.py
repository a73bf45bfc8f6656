"""MoCo v2 for small ultrasound data sets: mmpretrain's MoCo with a sized, checked queue."""
from typing import Dict, List, Optional, Union

import torch
from mmpretrain.models import MoCo
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from .ema import check_ema_momentum
from .queue import NegativeQueueMixin, QueueLen


@MODELS.register_module()
class UltrasoundMoCo(NegativeQueueMixin, MoCo):
    """MoCo v2 (`Chen et al., 2020 <https://arxiv.org/abs/2003.04297>`_) for small data.

    mmpretrain's :class:`~mmpretrain.models.MoCo` (the v2 recipe comes from its neck and
    augmentations) with the queue handling of :class:`UltrasoundDenseCL`: ``queue_len='auto'``
    resolved by :class:`NegativeQueueHook`, a named ``ValueError`` for a queue length that is not
    a multiple of the global batch, and ``momentum`` validated as ``1 - m``.

    Args:
        backbone (dict): Backbone config (e.g. ResNetV1c).
        neck (dict): Neck config (``MoCoV2Neck``).
        head (dict): Head config (``ContrastiveHead``).
        queue_len (int | str): Keys in the queue, a multiple of the global batch, or ``'auto'``.
            Defaults to 'auto'.
        feat_dim (int): Dimension of the projected keys. Defaults to 128.
        momentum (float): Online-encoder weight of the key-encoder EMA, ``1 - m``.
            Defaults to 0.001 (the paper's m = 0.999).
        pretrained (str, optional): Checkpoint to initialise from. Defaults to None.
        data_preprocessor (dict, optional): Pre-processor config. Defaults to None.
        init_cfg (dict | list[dict], optional): Initialisation config. Defaults to None.
    """

    queue_names = ('queue', )

    def __init__(self,
                 backbone: dict,
                 neck: dict,
                 head: dict,
                 queue_len: QueueLen = 'auto',
                 feat_dim: int = 128,
                 momentum: float = 0.001,
                 pretrained: Optional[str] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[Union[List[dict], dict]] = None) -> None:
        super().__init__(
            backbone=backbone,
            neck=neck,
            head=head,
            queue_len=self._placeholder_len(queue_len),
            feat_dim=feat_dim,
            momentum=check_ema_momentum(momentum),
            pretrained=pretrained,
            data_preprocessor=data_preprocessor,
            init_cfg=init_cfg)
        self.queue_len = queue_len

    def loss(self, inputs: List[torch.Tensor], data_samples: List[DataSample],
             **kwargs) -> Dict[str, torch.Tensor]:
        """MoCo InfoNCE loss of two views: ``inputs = [query view, key view]``."""
        self._check_resolved()
        return super().loss(inputs, data_samples, **kwargs)
