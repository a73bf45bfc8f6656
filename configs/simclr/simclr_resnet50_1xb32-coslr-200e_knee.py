# SimCLR (Chen et al., ICML 2020) ResNet-50 on unlabelled knee ultrasound, with the data,
# augmentations and backbone of configs/densecl/r50_knee.py and mmpretrain's SimCLR recipe
# (LARS, 10 warm-up epochs, cosine, temperature 0.1).
_base_ = [
    '../_base_/pretrain/knee_unlabelled.py',
    '../_base_/pretrain/lars_coslr_200e.py',
    '../_base_/pretrain/default_runtime.py',
]

model = dict(
    type='SimCLR',
    backbone=dict(
        type='ResNetV1c',
        depth=50,
        in_channels=3,
        out_indices=(3, ),
        # one process: plain BN already sees the whole batch (SyncBN's point in the recipe)
        norm_cfg=dict(type='BN'),
        zero_init_residual=True),
    neck=dict(
        type='NonLinearNeck',
        in_channels=2048,
        hid_channels=2048,
        out_channels=128,
        num_layers=2,
        with_avg_pool=True),
    head=dict(
        type='ContrastiveHead',
        loss=dict(type='CrossEntropyLoss'),
        temperature=0.1),
)

# mmpretrain: lr 0.3 for a total batch of 256 (8 x 32); scaled linearly to our 32
optim_wrapper = dict(optimizer=dict(lr=0.3 * 32 / 256))
