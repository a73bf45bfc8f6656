# Echocardiography, UNet arms: the encoder of mmseg's UNet-S5 pretrained with SimCLR, SimCLR on
# clip pairs (USCL, MICCAI 2021: two frames of one clip at most 4 frames apart as the positive
# pair), BYOL and DenseCL (UNetEncoder, converted by the 'unet' transfer adapter: every encoder
# key verified, decoder.* the only part left to the fine-tuning), each beside its own untrained
# start and mmseg's random UNet; 5% and 25% of the training patients.
#   python tools/run_study.py configs/study/echo_unet_cpu.py
# Data and the fine-tuning protocol: configs/study/echo_cpu.py (the DeepLabV3 arms; same data).
# CPU size: UNet-S5 with 16 base channels (not 64), 64 px views, batch 32, 30 epochs; fine-tuning
# UNet-16 on 64 px crops of the 112 px frames for the protocol's 300 iterations. Paper scale: the
# full configs (64 base channels, 112 px; configs/unet/*-{simclr,byol,densecl}_*echonet*.py).
_base_ = ['./echo_cpu.py']
base_channels = 16
unet_pretrain = dict(view_size=64, batch_size=32, num_workers=2, max_epochs=30)
unet_width = {'model.backbone.base_channels': base_channels,
              'model.neck.in_channels': base_channels * 16,
              'default_hooks.logger.interval': 5, 'default_hooks.checkpoint.interval': 10}

study = dict(
    pretrain=dict(
        _delete_=True,
        simclr=dict(config='configs/simclr/simclr_unet-s5_1xb32-coslr-200e_echonet.py', adapter='unet',
                    shrink=unet_pretrain, cfg_options=unet_width),
        simclr_clip=dict(config='configs/simclr/simclr_unet-s5-clip_1xb32-coslr-200e_echonet.py', adapter='unet',
                         shrink=unet_pretrain, cfg_options=unet_width),
        byol=dict(config='configs/byol/byol_unet-s5_1xb32-coslr-200e_echonet.py', adapter='unet',
                  shrink=unet_pretrain, cfg_options=unet_width),
        densecl=dict(config='configs/densecl/densecl_unet-s5_1xb32-coslr-200e_echonet.py', adapter='unet',
                     shrink=dict(unet_pretrain, warmup_iters=20),
                     cfg_options=dict(unet_width, **{'optim_wrapper.optimizer.lr': 0.05}))),
    finetune=dict(
        config='configs/unet/unet-s5-d16_fcn-random_1xb16-40k_echonet-112x112.py',
        # the UNet has no depth; its width is set below
        shrink=dict(img_scale=112, depth=None),
        cfg_options={'model.backbone.base_channels': base_channels,
                     'model.decode_head.in_channels': base_channels,
                     'model.auxiliary_head.in_channels': base_channels * 2}),
    inits=['simclr', 'simclr_clip', 'byol', 'densecl', 'random'],
)
