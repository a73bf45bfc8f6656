# DeepLabV3 R50-D8, random init (mmseg's ResNet default: Kaiming convs, BN 1/0, zero-init last BN
# of each block); CAMUS (LV endocardium, LV myocardium, left atrium), 256x256 crops, batch 16 on
# one GPU, 40k iterations.
_base_ = [
    '../_base_/models/deeplabv3_r50-d8.py', '../_base_/datasets/camus.py',
    '../_base_/schedules/schedule_40k.py', '../_base_/schedules/seg_runtime.py'
]
crop_size = (256, 256)
data_preprocessor = dict(size=crop_size)
model = dict(
    data_preprocessor=data_preprocessor,
    decode_head=dict(num_classes=4),
    auxiliary_head=dict(num_classes=4))
