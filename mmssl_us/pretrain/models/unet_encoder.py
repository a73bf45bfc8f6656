"""The encoder of mmseg's ``UNet`` backbone, on the pretraining side (no mmseg import).

mmseg's UNet (mmseg/models/backbones/unet.py) holds its encoder as
``encoder.<stage>.<block>.convs.<conv>.{conv,bn}.*``: a ``ModuleList`` of ``Sequential`` stages,
each a ``MaxPool2d`` (stages after the first that downsample by pooling) followed by a block
whose ``convs`` is a ``Sequential`` of mmcv ``ConvModule`` (3x3 conv, norm, activation).
:class:`UNetEncoder` builds the same modules with the same names from mmcv alone, so a
pretraining's ``backbone.encoder.*`` keys are the UNet's ``encoder.*`` keys one to one, and the
transfer adapter ``'unet'`` (:mod:`mmssl_us.transfer.adapters`) only strips ``backbone.``; the
decoder is the fine-tuning's to learn and is listed as the only missing part.

The output is a tuple of the stage outputs named by ``out_indices`` (default: the deepest, the
one dense map that mmpretrain's ``NonLinearNeck`` and ``DenseCLNeck`` take).
"""
from typing import Optional, Sequence, Tuple

import torch
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule
from mmpretrain.registry import MODELS
from torch import nn

from ...validate import check_int

__all__ = ['UNetEncoder']


class _ConvBlock(nn.Module):
    """mmseg's ``BasicConvBlock`` (its ``convs`` names), without ``with_cp``, dcn and plugins."""

    def __init__(self, in_channels: int, out_channels: int, num_convs: int, stride: int,
                 dilation: int, conv_cfg: Optional[dict], norm_cfg: Optional[dict],
                 act_cfg: Optional[dict]) -> None:
        super().__init__()
        self.convs = nn.Sequential(*[
            ConvModule(in_channels if i == 0 else out_channels, out_channels, kernel_size=3,
                       stride=stride if i == 0 else 1, dilation=1 if i == 0 else dilation,
                       padding=1 if i == 0 else dilation, conv_cfg=conv_cfg,
                       norm_cfg=norm_cfg, act_cfg=act_cfg) for i in range(num_convs)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.convs(x)


@MODELS.register_module()
class UNetEncoder(BaseModule):
    """The contracting path of mmseg's ``UNet``, with the same parameter names.

    The arguments are mmseg's ``UNet`` arguments that shape the encoder (same defaults), plus
    ``out_indices``; the decoder's arguments are not here (the fine-tuning builds the decoder).

    Args:
        in_channels (int): Input channels. Defaults to 3.
        base_channels (int): Channels of the first stage (stage i has ``base * 2**i``).
            Defaults to 64.
        num_stages (int): Stages. Defaults to 5.
        strides (Sequence[int]): Stride of each stage's first convolution (1 or 2).
            Defaults to (1, 1, 1, 1, 1).
        enc_num_convs (Sequence[int]): Convolutions per stage. Defaults to (2, 2, 2, 2, 2).
        downsamples (Sequence[bool]): Whether stage i+1 starts with a 2x2 max-pool (when its
            stride is 1). Defaults to (True, True, True, True).
        enc_dilations (Sequence[int]): Dilation of each stage's later convolutions.
            Defaults to (1, 1, 1, 1, 1).
        out_indices (Sequence[int]): Stages whose outputs are returned. Defaults to
            (num_stages - 1,).
        conv_cfg (dict, optional): Convolution config. Defaults to None.
        norm_cfg (dict, optional): Norm config. Defaults to dict(type='BN').
        act_cfg (dict, optional): Activation config. Defaults to dict(type='ReLU').
        init_cfg (dict | list, optional): Defaults to mmseg UNet's own random init (Kaiming
            for convolutions, 1 for norm weights), so that the same-start arm starts as
            mmseg's random UNet does.
    """

    def __init__(self,
                 in_channels: int = 3,
                 base_channels: int = 64,
                 num_stages: int = 5,
                 strides: Sequence[int] = (1, 1, 1, 1, 1),
                 enc_num_convs: Sequence[int] = (2, 2, 2, 2, 2),
                 downsamples: Sequence[bool] = (True, True, True, True),
                 enc_dilations: Sequence[int] = (1, 1, 1, 1, 1),
                 out_indices: Optional[Sequence[int]] = None,
                 conv_cfg: Optional[dict] = None,
                 norm_cfg: Optional[dict] = dict(type='BN'),
                 act_cfg: Optional[dict] = dict(type='ReLU'),
                 init_cfg=None) -> None:
        if init_cfg is None:
            init_cfg = [dict(type='Kaiming', layer='Conv2d'),
                        dict(type='Constant', val=1, layer=['_BatchNorm', 'GroupNorm'])]
        super().__init__(init_cfg)
        n = check_int('num_stages', num_stages, low=1)
        for name, value, length in (('strides', strides, n), ('enc_num_convs', enc_num_convs, n),
                                    ('enc_dilations', enc_dilations, n),
                                    ('downsamples', downsamples, n - 1)):
            if len(value) != length:
                raise ValueError(f'{name} must have {length} entries for num_stages={n}, got '
                                 f'{tuple(value)}')
        out_indices = (n - 1, ) if out_indices is None else tuple(out_indices)
        if not out_indices or any(not 0 <= int(i) < n for i in out_indices):
            raise ValueError(f'out_indices must be stage numbers in 0..{n - 1}, got '
                             f'{out_indices}')
        self.out_indices = tuple(int(i) for i in out_indices)
        self.num_stages = n
        self.strides, self.downsamples = tuple(strides), tuple(downsamples)
        self.encoder = nn.ModuleList()
        for i in range(n):
            stage = []
            if i != 0 and strides[i] == 1 and downsamples[i - 1]:
                stage.append(nn.MaxPool2d(kernel_size=2))
            stage.append(_ConvBlock(in_channels, base_channels * 2**i, enc_num_convs[i],
                                    strides[i], enc_dilations[i], conv_cfg, norm_cfg, act_cfg))
            self.encoder.append(nn.Sequential(*stage))
            in_channels = base_channels * 2**i

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        outs = []
        for i, stage in enumerate(self.encoder):
            x = stage(x)  # N x base*2^i x H/2^i x W/2^i (pooling layout)
            if i in self.out_indices:
                outs.append(x)
        return tuple(outs)
