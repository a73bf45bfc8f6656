# BYOL (Grill et al., NeurIPS 2020) of the encoder of mmseg's UNet-S5 (UNetEncoder) on
# unlabelled echocardiography, the encoder the contrastive-echo work pretrained for its UNet,
# with mmpretrain's BYOL recipe as in byol_resnet50_1xb32-coslr-200e_knee.py. Convert with --adapter unet.
_base_ = [
    '../_base_/pretrain/echonet_unlabelled.py',
    '../_base_/pretrain/lars_coslr_200e.py',
    '../_base_/pretrain/default_runtime.py',
]
base_channels = 64
model = dict(
    type='BYOL',
    base_momentum=0.01,  # 1 - tau, tau_base = 0.99 (mmpretrain's config)
    backbone=dict(
        type='UNetEncoder',
        in_channels=3,
        base_channels=base_channels,
        num_stages=5,
        out_indices=(4, ),
        norm_cfg=dict(type='BN')),
    neck=dict(
        type='NonLinearNeck',
        in_channels=base_channels * 16,
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
# mmpretrain: lr 4.8 for a total batch of 4096; scaled linearly to our 32
optim_wrapper = dict(optimizer=dict(lr=4.8 * 32 / 4096))
