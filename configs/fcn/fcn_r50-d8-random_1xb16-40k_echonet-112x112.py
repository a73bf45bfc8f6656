# FCN R50-D8, random init (mmseg's ResNet default: Kaiming convs, BN 1/0, zero-init last BN of
# each block); EchoNet-Dynamic left ventricle, 112x112 crops, batch 16 on one GPU, 40k iterations.
_base_ = [
    '../_base_/models/fcn_r50-d8.py', '../_base_/datasets/echonet.py',
    '../_base_/schedules/schedule_40k.py', '../_base_/schedules/seg_runtime.py'
]
crop_size = (112, 112)
data_preprocessor = dict(size=crop_size)
model = dict(
    data_preprocessor=data_preprocessor,
    decode_head=dict(num_classes=2),
    auxiliary_head=dict(num_classes=2))
