# DeepLabV3 R50-D8, backbone initialised from the DenseCL knee pretraining;
# otherwise as its -random sibling (deeplabv3_r50-d8-random_1xb16-40k_camus-256x256.py).
_base_ = './deeplabv3_r50-d8-random_1xb16-40k_camus-256x256.py'
model = dict(
    backbone=dict(
        init_cfg=dict(
            type='VerifiedPretrained',
            # written by tools/model_converters/pretrain2seg.py from the DenseCL run
            # of configs/densecl (mmseg ResNetV1c key names; every key is checked)
            checkpoint='work_dirs/r50_knee/backbone.pth')))
