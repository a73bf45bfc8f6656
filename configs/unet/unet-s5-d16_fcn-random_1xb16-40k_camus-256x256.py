# UNet-S5-D16 with an FCN head, random init; CAMUS (LV endocardium, LV myocardium, left atrium),
# 256x256 crops, batch 16 on one GPU, 40k iterations.
_base_ = [
    '../_base_/models/unet_s5-d16.py', '../_base_/datasets/camus.py',
    '../_base_/schedules/schedule_40k.py', '../_base_/schedules/seg_runtime.py'
]
crop_size = (256, 256)
data_preprocessor = dict(size=crop_size)
model = dict(
    data_preprocessor=data_preprocessor,
    decode_head=dict(num_classes=4),
    auxiliary_head=dict(num_classes=4))
