# DenseCL (Wang et al., CVPR 2021) pretraining of the plain ResNet-50 (7x7 stem, type='ResNet'),
# the backbone of mmdet's model zoo and of the original DenseCL detection transfer (Faster /
# Mask R-CNN R50-FPN): a standard mmdet config loads the converted file unchanged.
#   python tools/train.py configs/densecl/densecl_resnet50-plain_1xb32-coslr-200e_knee.py
#   python tools/model_converters/pretrain2seg.py work_dirs/densecl/densecl_resnet50-plain_1xb32-coslr-200e_knee --target mmdet --verify
#     -> work_dirs/densecl/densecl_resnet50-plain_1xb32-coslr-200e_knee/backbone_mmdet.pth for mmdet ResNet(depth=50)
# Everything else (data, schedule, DenseCL settings, hooks) is configs/densecl/r50_knee.py's; for
# mmseg's FCN / DeepLabV3 R50-D8 (deep stem, ResNetV1c) pretrain r50_knee.py instead.
_base_ = ['./r50_knee.py']

work_dir = 'work_dirs/densecl/densecl_resnet50-plain_1xb32-coslr-200e_knee'  # its own, not r50_knee.py's (another backbone)

model = dict(backbone=dict(type='ResNet'))
