# SimCLR (Chen et al., ICML 2020) of the encoder of mmseg's UNet-S5 (UNetEncoder: the same
# parameter names, mmseg not imported) on unlabelled echocardiography, with mmpretrain's SimCLR
# recipe (LARS, 10 warm-up epochs, cosine, temperature 0.1) as in simclr_resnet50_1xb32-coslr-200e_knee.py. Convert with
#   python tools/model_converters/pretrain2seg.py work_dirs/simclr/simclr_unet-s5_1xb32-coslr-200e_echonet --adapter unet
# (every encoder key; the decoder is left to the fine-tuning) for configs/unet/*-simclr_*.py.
_base_ = [
    '../_base_/pretrain/echonet_unlabelled.py',
    '../_base_/pretrain/lars_coslr_200e.py',
    '../_base_/pretrain/default_runtime.py',
]
base_channels = 64  # mmseg's UNet-S5 default; the deepest stage has 16x as many
model = dict(
    type='SimCLR',
    backbone=dict(
        type='UNetEncoder',
        in_channels=3,
        base_channels=base_channels,
        num_stages=5,
        out_indices=(4, ),  # the bottleneck (stride 16): one dense map for the neck
        norm_cfg=dict(type='BN')),
    neck=dict(
        type='NonLinearNeck',
        in_channels=base_channels * 16,
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
