# Unlabelled knee ultrasound (data/knee/unlabelled, docs/CONTRACTS.md) for the pretraining
# configs: two augmented views per image, as in mmpretrain's MoCo v2 / DenseCL pipeline
# (imagenet_bs32_mocov2.py) with its natural-image steps replaced by ultrasound ones.
data_root = 'data/knee'

# Grey-level statistics of B-mode frames, black borders included: HC18 fetal heads
# 42.6 +- 43.5 (200 images), synthetic knee 32.9 +- 43.7 (12 frames). Rounded and used for all
# three (identical) channels; the fine-tuning configs should normalise the same way.
grey_mean = 40.0
grey_std = 44.0
data_preprocessor = dict(
    type='SelfSupDataPreprocessor',
    mean=[grey_mean] * 3,
    std=[grey_std] * 3,
    to_rgb=False)  # three copies of one grey plane: the channel order means nothing

# One view. Stock DenseCL view -> ours:
#   RandomResizedCrop(224, crop_ratio_range=(0.2, 1))  -> SectorRandomResizedCrop: the same
#       crop statistics, but boxes lie inside the scan footprint, not on the black border
#   RandomApply(ColorJitter(0.4, 0.4, 0.4, hue=0.1), p=0.8) and RandomGrayscale(p=0.2)
#       -> RandomApply(gain, dynamic range, TGC, p=0.8), depth attenuation, acoustic shadow.
#       B-mode is one grey plane: saturation and hue do not exist and grayscale is a no-op,
#       while gain, log-compression range and TGC are what changes between scanners and
#       operators. (Also: mmcv 2.1's adjust_hue overflows np.uint8 under numpy 2 for a
#       negative hue factor, so the stock hue jitter crashes at random; docs/ENVIRONMENT.md trap 7.)
#   GaussianBlur(sigma 0.1-2, p=0.5)  -> multiplicative speckle then an anisotropic PSF blur
#       (longer laterally than axially), each p=0.5
#   RandomFlip(p=0.5, horizontal)      -> kept: left-right is arbitrary in a probe image, the
#       vertical axis is depth and is not flipped
# The view is augmented on one grey plane (a third of the work of three identical planes)
# and repeated to 3 channels at the end, for the ImageNet-shaped ResNet stem that mmseg loads.
view_pipeline = [
    dict(type='SectorRandomResizedCrop', scale=224, crop_ratio_range=(0.2, 1.0),
         aspect_ratio_range=(3. / 4., 4. / 3.), footprint='auto'),
    dict(
        type='RandomApply',
        transforms=[
            dict(type='GainChange', gain_db=(-6.0, 6.0), prob=1.0),
            dict(type='LogCompression', dr_db=(40.0, 80.0), prob=1.0),
            dict(type='TGCCurve', num_points=5, gain_db=(-6.0, 6.0), prob=1.0),
        ],
        prob=0.8),
    dict(type='DepthAttenuation', alpha=(0.0, 6.0), prob=0.5),
    dict(type='AcousticShadow', reflector='random', prob=0.2),
    dict(type='SpeckleNoise', sigma=(0.05, 0.3), distribution='rayleigh', prob=0.5),
    dict(type='AnisotropicPSFBlur', axial_sigma=(0.3, 1.0), lateral_sigma=(0.5, 2.0), prob=0.5),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='RepeatGreyChannels', channels=3),
]

train_pipeline = [
    dict(type='LoadUltrasoundFrame', channels=1),
    dict(type='MultiView', num_views=2, transforms=[view_pipeline]),
    dict(type='PackInputs'),
]

train_dataloader = dict(
    batch_size=32,  # per process; the schedules assume a total batch of 32
    num_workers=4,
    drop_last=True,  # the negative-key queues are refilled one full batch at a time
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type='UltrasoundUnlabelledDataset',
        data_root=data_root,
        data_prefix='unlabelled',
        # never pretrain on an evaluation image or patient: by stem, patient (stem up to the
        # first '_'), md5 (renamed copies) and content hash (resized / re-encoded copies)
        exclude=['images/val', 'images/test'],
        frame_step=1,  # every frame of any video in the pool
        pipeline=train_pipeline))
