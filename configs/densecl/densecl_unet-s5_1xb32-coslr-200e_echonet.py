# DenseCL (Wang et al., CVPR 2021) of the encoder of mmseg's UNet-S5 (UNetEncoder) on unlabelled
# echocardiography. DenseCL's neck takes one dense map: the encoder's bottleneck (stage 4,
# stride 16: 7x7 cells for 112 px views), matched between the views by feature similarity as
# in r50_knee.py. Convert with --adapter unet.
_base_ = [
    '../_base_/pretrain/echonet_unlabelled.py',
    '../_base_/pretrain/sgd_coslr_200e.py',
    '../_base_/pretrain/default_runtime.py',
]
work_dir = 'work_dirs/densecl/densecl_unet-s5_1xb32-coslr-200e_echonet'
base_channels = 64
model = dict(
    type='UltrasoundDenseCL',
    queue_len='auto',  # see r50_knee.py
    feat_dim=128,
    momentum=0.001,  # 1 - m, m = 0.999
    loss_lambda=0.5,
    backbone=dict(
        type='UNetEncoder',
        in_channels=3,
        base_channels=base_channels,
        num_stages=5,
        out_indices=(4, ),
        # no shuffle BN in one process: 2 groups of BN statistics (see r50_knee.py)
        norm_cfg=dict(type='SplitBatchNorm2d', num_splits=2)),
    neck=dict(
        type='DenseCLNeck',
        in_channels=base_channels * 16,
        hid_channels=2048,
        out_channels=128,
        num_grid=None),
    head=dict(
        type='ContrastiveHead',
        loss=dict(type='CrossEntropyLoss'),
        temperature=0.2),
)
find_unused_parameters = True
custom_hooks = [
    dict(type='NegativeQueueHook'),
    dict(type='DenseCLHook', start_iters=1000),
    dict(type='SaveStartWeightsHook'),
]
