# DenseCL (Wang et al., CVPR 2021) ResNet-50 pretraining on unlabelled knee ultrasound.
#   python tools/train.py configs/densecl/r50_knee.py
#   python tools/model_converters/pretrain2seg.py work_dirs/r50_knee --verify
#     -> work_dirs/r50_knee/backbone.pth for the segmentation configs
# The paper's setup: 200 epochs, SGD (momentum 0.9, weight decay 1e-4, lr 0.03 per 256 images,
# cosine), feature dim 128, temperature 0.2, loss_lambda 0.5 after a 1000-iteration warm-up,
# key-encoder momentum m = 0.999. Here: total batch 32 on one process (lr scaled linearly).
_base_ = [
    '../_base_/pretrain/knee_unlabelled.py',
    '../_base_/pretrain/sgd_coslr_200e.py',
    '../_base_/pretrain/default_runtime.py',
]
# the segmentation configs load work_dirs/r50_knee/backbone.pth: DenseCL keeps that work dir
# (other configs default to work_dirs/<config folder>/<config name>)
work_dir = 'work_dirs/r50_knee'

model = dict(
    type='UltrasoundDenseCL',
    # 'auto': the largest multiple of the total batch <= the number of training images
    # (at most 65536), set by NegativeQueueHook when training starts; see
    # mmssl_us/pretrain/models/queue.py. The paper's 65536 over a few thousand images would
    # hold every image ~20 times as stale keys.
    queue_len='auto',
    feat_dim=128,
    # mmpretrain/mmengine convention: key = (1 - momentum) * key + momentum * query, so this is
    # 1 - m for the paper's m = 0.999 (mmpretrain's DenseCL docstring says 0.999; its code and
    # this argument mean 0.001).
    momentum=0.001,
    loss_lambda=0.5,
    backbone=dict(
        # deep-stem ResNet-50, the backbone of mmseg's FCN / DeepLabV3 R50-D8 configs
        type='ResNetV1c',
        depth=50,
        in_channels=3,
        out_indices=(3, ),
        # One process cannot shuffle keys across GPUs ("shuffle BN"): BN statistics are
        # computed in 2 groups of 16 instead, the query's and the (shuffled) key's groups
        # differ. Keys in the checkpoint are those of plain BN.
        norm_cfg=dict(type='SplitBatchNorm2d', num_splits=2),
        zero_init_residual=False),
    neck=dict(
        type='DenseCLNeck',
        in_channels=2048,
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
    # sizes queue_len='auto' (or checks a fixed queue_len) before any checkpoint is loaded
    dict(type='NegativeQueueHook'),
    # the paper's loss_lambda warm-up: 0 (single-vector loss only) for the first 1000
    # iterations, then model.loss_lambda; mmpretrain ships this hook but no config uses it
    dict(type='DenseCLHook', start_iters=1000),
    # the weights before the first step (work_dir/start_weights.pth): the study's same-start
    # control fine-tunes them to measure what pretraining itself added
    dict(type='SaveStartWeightsHook'),
]
