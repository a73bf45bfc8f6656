# Linear probe in mmpretrain: a frozen DenseCL ResNet-50 (ResNetV1c, frozen_stages=4, BN in eval
# mode), global average pooling and one linear layer, on the infant-hip standard-plane judgment
# images (NHBS-Net SPJ dataset: standard vs substandard planes, one folder per class).
#
#   python tools/train.py configs/densecl/r50_knee.py
#   python tools/model_converters/pretrain2seg.py work_dirs/r50_knee --target mmpretrain --verify
#   ln -s ../../shared/data/nhbs_hip_spj data/nhbs_hip_spj    # or --cfg-options data_root=...
#   python tools/train.py configs/linear_probe/resnet50-densecl-linear_hip-spj.py
#
# The raw pretraining checkpoint loads too, without conversion:
#   --cfg-options model.backbone.init_cfg.checkpoint=work_dirs/r50_knee/epoch_200.pth \
#                 model.backbone.init_cfg.prefix=backbone.
# With 50 images there is no held-out split in the folder: this config trains on all of them.
# tools/analysis/hip_spj_linear_probe.py estimates the probe's accuracy by repeated stratified
# cross-validation (DenseCL vs same-start vs random backbones).
default_scope = 'mmpretrain'
# VerifiedPretrained (host-free): fails on any missing / unexpected key, where mmengine's
# Pretrained only warns (and, with prefix='backbone.', stops on a converted file)
custom_imports = dict(imports=['mmssl_us.transfer.init'], allow_failed_imports=False)

backbone_checkpoint = 'work_dirs/r50_knee/backbone_mmpretrain.pth'
data_root = 'data/nhbs_hip_spj/SPJ_dataset'
classes = ('standard_ultrasound', 'substandard_ultrasound')  # the folder names
img_size = 128
# grey B-mode as 3 identical channels, normalised as in pretraining (mean 40, std 44)
grey_mean, grey_std = 40.0, 44.0

model = dict(
    type='ImageClassifier',
    data_preprocessor=dict(
        type='ClsDataPreprocessor', num_classes=len(classes), mean=[grey_mean] * 3,
        std=[grey_std] * 3, to_rgb=False),
    backbone=dict(
        type='ResNetV1c',
        depth=50,
        num_stages=4,
        out_indices=(3, ),
        frozen_stages=4,
        norm_eval=True,
        style='pytorch',
        init_cfg=dict(type='VerifiedPretrained', checkpoint=backbone_checkpoint)),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=len(classes),
        in_channels=2048,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        topk=(1, )))

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(img_size, img_size)),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(img_size, img_size)),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=16,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type='CustomDataset', data_root=data_root, data_prefix='', classes=classes,
        with_label=True, pipeline=train_pipeline))
val_dataloader = None
val_cfg = None
val_evaluator = None
test_dataloader = dict(
    batch_size=16,
    num_workers=2,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type='CustomDataset', data_root=data_root, data_prefix='', classes=classes,
        with_label=True, pipeline=test_pipeline))
test_cfg = dict()
test_evaluator = dict(type='Accuracy', topk=(1, ))

# only the linear head trains (the backbone is frozen)
optim_wrapper = dict(
    type='OptimWrapper', optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=0.0))
param_scheduler = [dict(type='CosineAnnealingLR', T_max=100, by_epoch=True, begin=0, end=100)]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=100)
auto_scale_lr = dict(base_batch_size=16)

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=10),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', interval=20, max_keep_ckpts=2),
    sampler_seed=dict(type='DistSamplerSeedHook'),
)
env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'))
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='UniversalVisualizer', vis_backends=vis_backends)
log_level = 'INFO'
load_from = None
resume = False
randomness = dict(seed=0, deterministic=False)
