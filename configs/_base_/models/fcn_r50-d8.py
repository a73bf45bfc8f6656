# FCN with a dilated ResNet-50 V1c (deep stem, output stride 8), the settings of mmseg 1.2.2's
# configs/_base_/models/fcn_r50-d8.py, with three changes:
# * no ImageNet `pretrained`: without pretrained/init_cfg, mmseg's ResNet initialises itself with
#   Kaiming (He) init for every Conv2d, weight 1 / bias 0 for BatchNorm and GroupNorm, and, since
#   zero_init_residual=True, zero weight for the last norm layer of every residual block (norm3
#   of each Bottleneck). This is the "random" initialisation of the study. The densecl and
#   imagenet configs add their own init to the backbone.
# * ultrasound normalisation: mean 40, std 44 (0-255 scale) on every channel, the statistics the
#   DenseCL pretraining uses (configs/_base_/pretrain/knee_unlabelled.py; measured here too: mean
#   43, std 44 over the 248 HC18 images, mean 33, std 44 over 8 synthetic knee images). The
#   imagenet configs switch to ImageNet's mean/std, which its weights were trained with.
# * num_classes=2 (each dataset config sets its own).
# SyncBN as in mmseg: mmengine's Runner turns it into plain BN when not distributed.
norm_cfg = dict(type='SyncBN', requires_grad=True)
data_preprocessor = dict(
    type='SegDataPreProcessor',
    mean=[40.0, 40.0, 40.0],
    std=[44.0, 44.0, 44.0],
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=255)
model = dict(
    type='EncoderDecoder',
    data_preprocessor=data_preprocessor,
    pretrained=None,
    backbone=dict(
        type='ResNetV1c',
        depth=50,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        dilations=(1, 1, 2, 4),
        strides=(1, 2, 1, 1),
        norm_cfg=norm_cfg,
        norm_eval=False,
        style='pytorch',
        contract_dilation=True),
    decode_head=dict(
        type='FCNHead',
        in_channels=2048,
        in_index=3,
        channels=512,
        num_convs=2,
        concat_input=True,
        dropout_ratio=0.1,
        num_classes=2,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
    auxiliary_head=dict(
        type='FCNHead',
        in_channels=1024,
        in_index=2,
        channels=256,
        num_convs=1,
        concat_input=False,
        dropout_ratio=0.1,
        num_classes=2,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=0.4)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
