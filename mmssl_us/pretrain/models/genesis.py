"""Models Genesis: restorative pretraining of a ResNet encoder with a light decoder.

Zhou et al., "Models Genesis: Generic Autodidactic Models for 3D Medical Image Analysis"
(MICCAI 2019; Medical Image Analysis 67, 2021): an encoder-decoder learns to restore images
from distorted copies (:mod:`mmssl_us.transforms.genesis`); the encoder is then fine-tuned.
The paper's network is a 3D U-Net with a sigmoid output trained with MSE on [0, 1] volumes;
here the encoder is the ResNet of the DenseCL configs (under ``backbone``, so the transfer
step's 'resnet' adapter converts it unchanged) and the decoder a few upsampling conv stages.
"""
from typing import List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule
from mmpretrain.models.selfsup import BaseSelfSupervisor
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample
from torch import nn

from ...validate import check_int

__all__ = ['GenesisDecoder', 'ModelsGenesis']


@MODELS.register_module()
class GenesisDecoder(BaseModule):
    """Upsampling decoder from ResNet stage outputs back to the input resolution.

    The deepest feature map (stride 32 for a ResNet) is reduced to ``channels[0]`` by a 1x1
    conv, then each of ``len(channels)`` stages upsamples it by 2 (bilinear; to the skip's size
    when there is one), concatenates the backbone output of that resolution if ``skips``
    (U-Net style, as the paper's 3D U-Net) and applies a 3x3 conv-BN-ReLU. A 1x1 conv gives
    ``out_channels`` maps (logits). With five stages a stride-32 map is back at full size.

    Args:
        in_channels (Sequence[int]): Widths of the backbone outputs, shallowest first (for a
            ResNet-50 with ``out_indices=(0, 1, 2, 3)``: (256, 512, 1024, 2048)); without
            skips only the last one is used.
        channels (Sequence[int]): Width of each upsampling stage.
            Defaults to (256, 128, 64, 32, 16).
        out_channels (int): Output maps: 1 for a grey target, 3 for a colour one.
            Defaults to 1.
        skips (bool): Concatenate the shallower backbone outputs. Defaults to True.
        norm_cfg (dict): Norm layer of the conv stages. Defaults to dict(type='BN').
        init_cfg (dict, optional): Initialisation. Defaults to None.
    """

    def __init__(self,
                 in_channels: Sequence[int],
                 channels: Sequence[int] = (256, 128, 64, 32, 16),
                 out_channels: int = 1,
                 skips: bool = True,
                 norm_cfg: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if isinstance(in_channels, int) or not in_channels or not channels:
            raise ValueError(f'in_channels and channels must be non-empty sequences, got '
                             f'{in_channels!r} and {channels!r}')
        self.in_channels = tuple(check_int('in_channels', c, low=1) for c in in_channels)
        self.channels = tuple(check_int('channels', c, low=1) for c in channels)
        self.out_channels = check_int('out_channels', out_channels, low=1)
        self.skips = bool(skips)
        norm_cfg = norm_cfg or dict(type='BN')
        # the skip of stage i: backbone output -2 - i (stride 16, 8, 4 of a ResNet), if any
        skip_widths = list(reversed(self.in_channels[:-1])) if self.skips else []
        self.reduce = ConvModule(self.in_channels[-1], self.channels[0], 1, norm_cfg=norm_cfg)
        self.stages = nn.ModuleList()
        width = self.channels[0]
        for i, out in enumerate(self.channels):
            extra = skip_widths[i] if i < len(skip_widths) else 0
            self.stages.append(ConvModule(width + extra, out, 3, padding=1, norm_cfg=norm_cfg))
            width = out
        self.out = nn.Conv2d(width, self.out_channels, 1)

    def forward(self, feats: Union[torch.Tensor, Sequence[torch.Tensor]]) -> torch.Tensor:
        """Decode backbone outputs (shallowest first) to NxCoutxHxW logits."""
        feats = [feats] if isinstance(feats, torch.Tensor) else list(feats)
        if self.skips and len(feats) != len(self.in_channels):
            raise ValueError(f'{type(self).__name__} with skips expects {len(self.in_channels)} '
                             f'backbone outputs (in_channels={self.in_channels}), got '
                             f'{len(feats)}: set the backbone out_indices to match')
        skips = list(reversed(feats[:-1])) if self.skips else []
        x = self.reduce(feats[-1])
        for i, stage in enumerate(self.stages):
            if i < len(skips):
                x = F.interpolate(x, size=skips[i].shape[-2:], mode='bilinear',
                                  align_corners=False)
                x = torch.cat([x, skips[i]], dim=1)
            else:
                x = F.interpolate(x, scale_factor=2.0, mode='bilinear', align_corners=False)
            x = stage(x)
        return self.out(x)


@MODELS.register_module()
class ModelsGenesis(BaseSelfSupervisor):
    """Restore the undistorted image from the distorted input (Zhou et al. 2019/2021).

    ``inputs`` are the distorted images, normalised by the data preprocessor (grey mean 40,
    std 44 in our configs) as in fine-tuning. The target is the undistorted image
    (``data_sample.gt_img``, uint8 HxW or HxWxC, from ``KeepRestorationTarget`` and
    ``PackInputs(algorithm_keys=['gt_img'])``), compared in [0, 1] with the decoder's output
    through a sigmoid, as the paper's network (sigmoid output, MSE on [0, 1] intensities).
    The prediction is resized to the input size if the decoder's output differs.

    Args:
        backbone (dict): The encoder, e.g. mmpretrain's ``ResNetV1c`` with
            ``out_indices=(0, 1, 2, 3)``; kept under ``backbone.`` in checkpoints.
        neck (dict): The decoder, e.g. :class:`GenesisDecoder`.
        loss (dict): The reconstruction loss, called as ``loss(pred, target)``. Defaults to
            ``dict(type='PixelReconstructionLoss', criterion='L2')`` (mean squared error;
            ``criterion='L1'`` for the mean absolute error).
        target_key (str): The data sample field holding the target. Defaults to 'gt_img'.
        data_preprocessor (dict, optional): Defaults to None (``SelfSupDataPreprocessor``).
        init_cfg (dict, optional): Initialisation. Defaults to None.
    """

    def __init__(self,
                 backbone: dict,
                 neck: dict,
                 loss: Optional[dict] = None,
                 target_key: str = 'gt_img',
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(backbone=backbone, neck=neck, data_preprocessor=data_preprocessor,
                         init_cfg=init_cfg)
        self.criterion = MODELS.build(loss or dict(type='PixelReconstructionLoss',
                                                   criterion='L2'))
        self.target_key = target_key

    def reconstruct(self, inputs: torch.Tensor) -> torch.Tensor:
        """NxCoutxHxW restoration in [0, 1] of normalised NxCxHxW ``inputs``."""
        out = self.neck(self.backbone(inputs))
        if out.shape[-2:] != inputs.shape[-2:]:
            out = F.interpolate(out, size=inputs.shape[-2:], mode='bilinear',
                                align_corners=False)
        return torch.sigmoid(out)

    def targets(self, data_samples: List[DataSample], like: torch.Tensor) -> torch.Tensor:
        """The samples' targets as an NxCxHxW float tensor in [0, 1] on ``like``'s device.

        Args:
            data_samples (list[DataSample]): Each with ``target_key``: a uint8 HxW or HxWxC
                array (numpy or tensor) of the input's spatial size.
            like (torch.Tensor): The NxCxHxW input batch.

        Returns:
            torch.Tensor: The targets.

        Raises:
            ValueError: a sample lacks the target, or its size is not the input's.
        """
        out = []
        for i, sample in enumerate(data_samples):
            value = sample.get(self.target_key) if sample is not None else None
            if value is None:
                raise ValueError(
                    f'{type(self).__name__}: data sample {i} has no {self.target_key!r} (the '
                    'restoration target): put KeepRestorationTarget before the distortions '
                    f"and PackInputs(algorithm_keys=['{self.target_key}']) in the pipeline")
            target = torch.as_tensor(np.asarray(value) if not torch.is_tensor(value) else value)
            target = target[None] if target.ndim == 2 else target.permute(2, 0, 1)
            if tuple(target.shape[-2:]) != tuple(like.shape[-2:]):
                raise ValueError(f'{type(self).__name__}: target {i} is {tuple(target.shape)}, '
                                 f'the input {tuple(like.shape[1:])} (CxHxW): crop before '
                                 'KeepRestorationTarget')
            out.append(target)
        return torch.stack(out).to(device=like.device, dtype=torch.float32) / 255.0

    def loss(self, inputs: Union[torch.Tensor, List[torch.Tensor]],
             data_samples: List[DataSample]) -> dict:
        """The reconstruction loss of a batch.

        Args:
            inputs (torch.Tensor | list[torch.Tensor]): The distorted, normalised NxCxHxW batch
                (a list of one view is accepted).
            data_samples (list[DataSample]): The samples, with the targets.

        Returns:
            dict[str, torch.Tensor]: ``loss_restore``.
        """
        if isinstance(inputs, (list, tuple)):
            if len(inputs) != 1:
                raise ValueError(f'{type(self).__name__} takes one view per image, got '
                                 f'{len(inputs)} (no MultiView in its pipeline)')
            inputs = inputs[0]
        target = self.targets(data_samples, inputs)
        pred = self.reconstruct(inputs)
        if pred.shape[1] != target.shape[1]:
            raise ValueError(f'{type(self).__name__}: the decoder gives {pred.shape[1]} '
                             f'channel(s), the target has {target.shape[1]}: set '
                             'neck.out_channels to match')
        return dict(loss_restore=self.criterion(pred, target))

    def extract_feat(self, inputs: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        """The backbone's outputs (what fine-tuning starts from)."""
        return self.backbone(inputs)
