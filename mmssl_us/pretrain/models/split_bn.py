"""Batch normalisation over disjoint groups of a batch: multi-GPU BN statistics on one device.

MoCo-style methods (MoCo, DenseCL) shuffle the key batch across GPUs before the key encoder
("shuffle BN"), so that a query and its positive key are normalised with statistics of different
samples; otherwise the network can "cheat" the pretext task through the batch statistics (MoCo,
He et al. 2020, Sec. 3.3). With one process the upstream shuffle is a permutation inside a single
BN batch and has no effect. :class:`SplitBatchNorm2d` restores the multi-GPU behaviour on one
device: in training, sample ``i`` of a batch of ``N`` is normalised with the statistics of the
``N / num_splits`` samples ``j`` with ``j % num_splits == i % num_splits`` only, as if each group
sat on its own GPU. The key batch is shuffled before the key encoder, so its groups differ from
the query's. In eval mode it is a plain ``BatchNorm2d``, and its state_dict keys are the same
(``weight``, ``bias``, ``running_mean``, ``running_var``, ``num_batches_tracked``), so a backbone
pretrained with it loads into any BN ResNet.
"""
from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ...validate import check_int

from mmpretrain.registry import MODELS


@MODELS.register_module()
class SplitBatchNorm2d(nn.BatchNorm2d):
    """BatchNorm2d whose training statistics are computed per group of the batch.

    Use it as ``norm_cfg=dict(type='SplitBatchNorm2d', num_splits=2)`` in a backbone.

    Args:
        num_features (int): Number of channels ``C`` of the ``NxCxHxW`` input.
        num_splits (int): Number of groups the batch is split into in training; the batch size
            must be a multiple of it. ``1`` is exactly ``nn.BatchNorm2d``. Defaults to 2.
        eps (float): Added to the variance for stability. Defaults to 1e-5.
        momentum (float, optional): Running-statistics momentum (``None``: cumulative
            average). Defaults to 0.1.
        affine (bool): Learnable scale and shift. Defaults to True.
        track_running_stats (bool): Keep running statistics for eval mode. Defaults to True.
    """

    def __init__(self,
                 num_features: int,
                 num_splits: int = 2,
                 eps: float = 1e-5,
                 momentum: Optional[float] = 0.1,
                 affine: bool = True,
                 track_running_stats: bool = True) -> None:
        num_splits = check_int('num_splits', num_splits, low=1)
        super().__init__(num_features, eps=eps, momentum=momentum, affine=affine,
                         track_running_stats=track_running_stats)
        self.num_splits = num_splits

    def forward(self, x: Tensor) -> Tensor:
        """Normalise ``x`` (NxCxHxW); groups are ``i % num_splits`` in training mode."""
        if not self.training or self.num_splits == 1:
            return super().forward(x)
        self._check_input_dim(x)
        n, c, h, w = x.shape
        s = self.num_splits
        if n % s != 0:
            raise ValueError(f'SplitBatchNorm2d: a batch of {n} samples cannot be split into '
                             f'num_splits={s} equal groups; use a batch size that is a '
                             f'multiple of {s}')
        factor = 0.0
        if self.track_running_stats:
            self.num_batches_tracked.add_(1)
            factor = (1.0 / float(self.num_batches_tracked) if self.momentum is None
                      else self.momentum)
        # Sample i of the batch becomes channel block (i % s) of row i // s: one BN call then
        # computes s independent sets of statistics, one per group, without copying x.
        grouped = x.reshape(n // s, s * c, h, w)
        mean = var = None
        if self.track_running_stats:
            mean = self.running_mean.repeat(s)
            var = self.running_var.repeat(s)
        weight = self.weight.repeat(s) if self.affine else None
        bias = self.bias.repeat(s) if self.affine else None
        out = F.batch_norm(grouped, mean, var, weight, bias, True, factor, self.eps)
        if self.track_running_stats:
            # Every group updated its own copy of the running statistics; keep their average,
            # as the per-GPU copies of a DDP model agree only on average.
            with torch.no_grad():
                self.running_mean.copy_(mean.view(s, c).mean(0))
                self.running_var.copy_(var.view(s, c).mean(0))
        return out.view(n, c, h, w)

    def extra_repr(self) -> str:
        return super().extra_repr() + f', num_splits={self.num_splits}'
