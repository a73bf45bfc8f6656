# FCN R50-D8, random init (mmseg's ResNet default: Kaiming convs, BN 1/0, zero-init last BN of
# each block) on any folder dataset (configs/_base_/datasets/folder.py); 256x256 crops, batch 16
# on one GPU, 40k iterations. The number of classes follows `classes` there: a folder study sets
# it from study.classes (mmssl_us.study.finetune.class_options).
_base_ = [
    '../_base_/models/fcn_r50-d8.py', '../_base_/datasets/folder.py',
    '../_base_/schedules/schedule_40k.py', '../_base_/schedules/seg_runtime.py'
]
crop_size = (256, 256)
data_preprocessor = dict(size=crop_size)
model = dict(
    data_preprocessor=data_preprocessor,
    decode_head=dict(num_classes=2),
    auxiliary_head=dict(num_classes=2))
