# BYOL (Grill et al., NeurIPS 2020) ResNet-50 on unlabelled knee ultrasound, with the data,
# augmentations and backbone of configs/densecl/r50_knee.py (one view pipeline for both views)
# and mmpretrain's BYOL recipe (LARS, 10 warm-up epochs, cosine).
_base_ = [
    '../_base_/pretrain/knee_unlabelled.py',
    '../_base_/pretrain/lars_coslr_200e.py',
    '../_base_/pretrain/default_runtime.py',
]

model = dict(
    type='BYOL',
    # mmengine EMA convention, 1 - tau: tau_base = 0.99 as in mmpretrain's config (the paper's
    # 0.996 is for batch 4096); mmpretrain's CosineEMA raises tau to 1 over training
    base_momentum=0.01,
    backbone=dict(
        type='ResNetV1c',
        depth=50,
        in_channels=3,
        out_indices=(3, ),
        norm_cfg=dict(type='BN'),
        zero_init_residual=False),
    neck=dict(
        type='NonLinearNeck',
        in_channels=2048,
        hid_channels=4096,
        out_channels=256,
        num_layers=2,
        with_bias=True,
        with_last_bn=False,
        with_avg_pool=True),
    head=dict(
        type='LatentPredictHead',
        predictor=dict(
            type='NonLinearNeck',
            in_channels=256,
            hid_channels=4096,
            out_channels=256,
            num_layers=2,
            with_bias=True,
            with_last_bn=False,
            with_avg_pool=False),
        loss=dict(type='CosineSimilarityLoss')),
)

# mmpretrain: lr 4.8 for a total batch of 4096 (16 x 256); scaled linearly to our 32
optim_wrapper = dict(optimizer=dict(lr=4.8 * 32 / 4096))
