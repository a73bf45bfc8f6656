# DeepLabV3 R50-D8, backbone initialised from the DenseCL knee pretraining; CAMUS (LV endocardium,
# LV myocardium, left atrium), 256x256 crops, batch 16 on one GPU, 40k iterations.
_base_ = [
    '../_base_/models/deeplabv3_r50-d8.py', '../_base_/datasets/camus.py',
    '../_base_/schedules/schedule_40k.py', '../_base_/schedules/seg_runtime.py'
]
crop_size = (256, 256)
data_preprocessor = dict(size=crop_size)
model = dict(
    data_preprocessor=data_preprocessor,
    backbone=dict(
        init_cfg=dict(
            type='VerifiedPretrained',
            # written by tools/model_converters/pretrain2seg.py from the DenseCL run
            # of configs/densecl (mmseg ResNetV1c key names; every key is checked)
            checkpoint='work_dirs/r50_knee/backbone.pth')),
    decode_head=dict(num_classes=4),
    auxiliary_head=dict(num_classes=4))
