# UNet-S5-D16 with an FCN head, random init; EchoNet-Dynamic left ventricle, 112x112 crops, batch
# 16 on one GPU, 40k iterations.
_base_ = [
    '../_base_/models/unet_s5-d16.py', '../_base_/datasets/echonet.py',
    '../_base_/schedules/schedule_40k.py', '../_base_/schedules/seg_runtime.py'
]
crop_size = (112, 112)
data_preprocessor = dict(size=crop_size)
model = dict(
    data_preprocessor=data_preprocessor,
    decode_head=dict(num_classes=2),
    auxiliary_head=dict(num_classes=2))
