# FCN R50-D8, ImageNet init (open-mmlab://resnet50_v1c, downloaded by mmengine), with ImageNet
# normalisation; EchoNet-Dynamic left ventricle, 112x112 crops, batch 16 on one GPU, 40k
# iterations.
_base_ = [
    '../_base_/models/fcn_r50-d8.py', '../_base_/datasets/echonet.py',
    '../_base_/schedules/schedule_40k.py', '../_base_/schedules/seg_runtime.py'
]
crop_size = (112, 112)
data_preprocessor = dict(
    size=crop_size,
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
)
model = dict(
    data_preprocessor=data_preprocessor,
    pretrained='open-mmlab://resnet50_v1c',
    decode_head=dict(num_classes=2),
    auxiliary_head=dict(num_classes=2))
