# MoCo v2 (Chen et al., 2020) ResNet-50 on unlabelled knee ultrasound, with the data,
# augmentations, backbone and schedule of configs/densecl/r50_knee.py.
_base_ = [
    '../_base_/pretrain/knee_unlabelled.py',
    '../_base_/pretrain/sgd_coslr_200e.py',
    '../_base_/pretrain/default_runtime.py',
]

model = dict(
    type='UltrasoundMoCo',
    queue_len='auto',  # sized from the data set by NegativeQueueHook (see densecl/r50_knee.py)
    feat_dim=128,
    momentum=0.001,  # 1 - m for the paper's key-encoder momentum m = 0.999
    backbone=dict(
        type='ResNetV1c',
        depth=50,
        in_channels=3,
        out_indices=(3, ),
        norm_cfg=dict(type='SplitBatchNorm2d', num_splits=2),  # shuffle BN on one process
        zero_init_residual=False),
    neck=dict(
        type='MoCoV2Neck',
        in_channels=2048,
        hid_channels=2048,
        out_channels=128,
        with_avg_pool=True),
    head=dict(
        type='ContrastiveHead',
        loss=dict(type='CrossEntropyLoss'),
        temperature=0.2),
)

custom_hooks = [dict(type='NegativeQueueHook')]
