# Models Genesis (Zhou et al., MICCAI 2019; Medical Image Analysis 67, 2021) ResNet-50
# restorative pretraining on unlabelled knee ultrasound.
#   python tools/train.py configs/genesis/genesis_resnet50_1xb32-coslr-200e_knee.py
#   python tools/model_converters/pretrain2seg.py work_dirs/genesis/genesis_resnet50_1xb32-coslr-200e_knee --verify
#     (the default work dir is per config folder: it never meets DenseCL's work_dirs/r50_knee)
#     -> the encoder (backbone.*) as an mmseg ResNetV1c, exactly as for DenseCL
# What follows the paper / the authors' reference code (github.com/MrGiovanni/ModelsGenesis):
#   the four distortions in its order with its rates (flip 0.4, local shuffle 0.5, Bezier
#   intensity map 0.9, painting 0.9 of which out-painting 0.8), restoration of the undistorted
#   image, a sigmoid output and the MSE loss on [0, 1] intensities.
# What differs, and why:
#   * 2D ultrasound frames, not 64x64x32 CT cubes; the network is the DenseCL configs'
#     deep-stem ResNet-50 (so the study compares objectives on one encoder) with a light U-Net
#     style decoder (skips from stages 1-3), not the paper's 3D U-Net.
#   * Views: the same 224 px sector crops as configs/densecl/r50_knee.py (same data and view
#     statistics); the reference cuts fixed-size sub-volumes without rescaling.
#   * Flips: horizontal only. The reference flips along every axis; here the vertical axis is
#     depth, and an upside-down frame never occurs at fine-tuning time.
#   * Schedule: DenseCL's 200 epochs with a cosine decay at a total batch of 32, so both arms
#     see the same images for as long. The reference trains with batch 6 for up to 10000
#     epochs, stopping once the validation loss has not improved for 50 epochs, with SGD
#     (lr 1.0, momentum 0.9, no weight decay) halved every 40 epochs; that needs a held-out
#     pretraining set the pool does not have, and its lr 1.0 was tuned for the 3D U-Net.
#     We use Adam (no weight decay; the reference's code also offers Adam) at lr 1e-4, chosen
#     over 1e-3 on HC18's validation split (configs/study/methods_hc18_cpu.py, ResNet-18, 4
#     seeds: final val mIoU 67.0 vs 58.8); at 1e-3 the encoder moved 24% (relative L2) and
#     fine-tuned far below its own untrained start. Nothing else was tuned.
_base_ = [
    '../_base_/pretrain/knee_unlabelled.py',
    '../_base_/pretrain/sgd_coslr_200e.py',
    '../_base_/pretrain/default_runtime.py',
]

model = dict(
    type='ModelsGenesis',
    backbone=dict(
        # deep-stem ResNet-50, the backbone of mmseg's FCN / DeepLabV3 R50-D8 configs; all four
        # stages out for the decoder's skips
        type='ResNetV1c',
        depth=50,
        in_channels=3,
        out_indices=(0, 1, 2, 3),
        norm_cfg=dict(type='BN'),
        zero_init_residual=False),
    neck=dict(
        type='GenesisDecoder',
        in_channels=(256, 512, 1024, 2048),  # stage widths of the backbone (depth 50)
        channels=(256, 128, 64, 32, 16),  # five x2 upsamplings undo the stride of 32
        out_channels=1,  # the target is the grey frame
        skips=True),
    # mean squared error of the sigmoid output against the target in [0, 1], as the paper;
    # criterion='L1' for the mean absolute error
    loss=dict(type='PixelReconstructionLoss', criterion='L2'),
)

# One view per image: crop, keep the target, distort (the reference's order), pack both.
train_pipeline = [
    dict(type='LoadUltrasoundFrame', channels=1),
    dict(type='SectorRandomResizedCrop', scale=224, crop_ratio_range=(0.2, 1.0),
         aspect_ratio_range=(3. / 4., 4. / 3.), footprint='auto'),
    dict(type='KeepRestorationTarget'),  # gt_img: the undistorted crop
    dict(type='GenesisFlip', prob=0.4, directions=('horizontal', )),  # img and gt_img alike
    dict(type='LocalPixelShuffle', prob=0.5),
    dict(type='BezierIntensityMap', prob=0.9),
    dict(type='GenesisPainting', prob=0.9, outpaint_prob=0.8),
    dict(type='RepeatGreyChannels', channels=3),  # the input only; the target stays grey
    dict(type='PackInputs', algorithm_keys=['gt_img']),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))

optim_wrapper = dict(optimizer=dict(_delete_=True, type='Adam', lr=1e-4, weight_decay=0.0))

custom_hooks = [
    # the weights before the first step (work_dir/start_weights.pth): the study's same-start
    # control fine-tunes them to measure what pretraining itself added
    dict(type='SaveStartWeightsHook'),
]
