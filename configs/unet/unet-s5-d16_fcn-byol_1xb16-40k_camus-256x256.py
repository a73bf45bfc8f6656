# UNet-S5-D16 with an FCN head, the encoder initialised from the byol pretraining of
# configs/byol/byol_unet-s5_1xb32-coslr-200e_echonet.py (its UNetEncoder: mmseg's encoder names), the decoder from its
# random init; otherwise the -random config beside this one.
# The backbone file: python tools/model_converters/pretrain2seg.py work_dirs/byol/byol_unet-s5_1xb32-coslr-200e_echonet --adapter unet
# (every encoder.* key; decoder.* is the only part missing, and the only part allowed to be).
_base_ = ['./unet-s5-d16_fcn-random_1xb16-40k_camus-256x256.py']
model = dict(
    backbone=dict(
        init_cfg=dict(
            type='VerifiedPretrained',
            checkpoint='work_dirs/byol/byol_unet-s5_1xb32-coslr-200e_echonet/backbone.pth',
            method='BYOL',
            allowed_missing=['decoder.*'])))
