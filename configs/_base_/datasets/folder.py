# Any folder dataset of ultrasound images and masks (labels 0..K-1, classes from the config):
#   <data_root>/images/{train,val,test}/<patient>_<frame>.<suffix> + <data_root>/masks/... (.png)
# A folder study (configs/study/folder.py) lays the user's folder out so and sets the classes,
# the heads' widths and the image suffix from `study.classes`; used directly, set
# `*.dataset.metainfo=dict(classes=(...))` on the three loaders and the heads' num_classes.
# Any image size: training resizes each image to fit img_scale (keeping its aspect ratio)
# times a random 0.5-2 and takes crop_size crops (padded where smaller); evaluation resizes to
# fit img_scale and scores the prediction resized back to the mask's original size.
# Images are read by the pretraining's rule (LoadUltrasoundFrame): as stored, colour exports
# (an overlay) to grey with BT.601 luma, the grey plane repeated into 3 channels (B = G = R).
# The normalisation (data_preprocessor) is the grey one of the pretraining.
dataset_type = 'UltrasoundFolderDataset'
data_root = 'data/folder'
classes = ('background', 'foreground')
img_scale = (256, 256)
crop_size = (256, 256)
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
        metainfo=dict(classes=classes),
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
        metainfo=dict(classes=classes),
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
        metainfo=dict(classes=classes),
        data_root=data_root,
        data_prefix=dict(img_path='images/test', seg_map_path='masks/test'),
        test_mode=True,
        pipeline=test_pipeline))
val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU', 'mDice'])
test_evaluator = val_evaluator
