# FCN R50-D8, ImageNet init (open-mmlab://resnet50_v1c, downloaded by mmengine), with ImageNet
# normalisation; HC18 fetal head, 256x256 crops, batch 16 on one GPU, 40k iterations.
_base_ = [
    '../_base_/models/fcn_r50-d8.py', '../_base_/datasets/hc18.py',
    '../_base_/schedules/schedule_40k.py', '../_base_/schedules/seg_runtime.py'
]
crop_size = (256, 256)
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
