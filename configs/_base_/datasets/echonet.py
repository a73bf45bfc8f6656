# EchoNet-Dynamic ED/ES frames (labels: 0 background, 1 left ventricle), written by
#   python tools/dataset_converters/echonet.py <EchoNet-Dynamic folder> --out data/echonet
# (images/{train,val,test}/<FileName>_{ED,ES}.png, masks/... ; splits from FileList.csv).
# Grey ultrasound: LoadUltrasoundFrame (mmssl_us.transforms.loading, the reading rule of the
# pretraining pools too) reads each image as stored, colour to grey (BT.601 luma), and repeats
# the grey plane into 3 channels (B = G = R) for the 3-channel ResNet stem.
# The label fraction applies to the training split only (train_dataloader.dataset.label_fraction,
# .fraction_seed); val/test are built with test_mode=True, where a fraction is refused.
dataset_type = 'EchoNetDynamicDataset'
data_root = 'data/echonet'
img_scale = (112, 112)  # EchoNet-Dynamic videos are 112x112
crop_size = (112, 112)
train_pipeline = [
    dict(type='LoadUltrasoundFrame', channels=3),
    dict(type='LoadAnnotations'),
    dict(type='RandomResize', scale=img_scale, ratio_range=(0.5, 2.0), keep_ratio=True),
    # no cat_max_ratio: with a small foreground almost every crop is >75% background, and
    # RandomCrop would re-draw 10 times for nothing
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5),
    # on grey images (zero saturation) only its brightness and contrast steps change pixels
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadUltrasoundFrame', channels=3),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    # masks are loaded after Resize: metrics are computed at the original size
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(
    batch_size=16,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(img_path='images/train', seg_map_path='masks/train'),
        label_fraction=1.0,
        fraction_seed=0,
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(img_path='images/val', seg_map_path='masks/val'),
        test_mode=True,
        pipeline=test_pipeline))
test_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(img_path='images/test', seg_map_path='masks/test'),
        test_mode=True,
        pipeline=test_pipeline))
val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU', 'mDice'])
test_evaluator = val_evaluator
