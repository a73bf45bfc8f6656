# FCN R50-D8, ImageNet init (open-mmlab://resnet50_v1c, downloaded by mmengine; tools/train.py
# loads it as VerifiedPretrained), with ImageNet normalisation; otherwise as its -random sibling
# (fcn_r50-d8-random_1xb16-40k_echonet-112x112.py): the same data, schedule and model.
_base_ = './fcn_r50-d8-random_1xb16-40k_echonet-112x112.py'
data_preprocessor = dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375])
model = dict(data_preprocessor=data_preprocessor, pretrained='open-mmlab://resnet50_v1c')
