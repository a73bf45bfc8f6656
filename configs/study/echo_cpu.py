# Echocardiography, DeepLabV3 arms: SimCLR, BYOL and DenseCL pretrained on unlabelled echo clips,
# each beside its own untrained start (<name>_start, added by the runner) and mmseg's random
# init, fine-tuned for the left ventricle at 5% and 25% of the training patients, on 2 CPU cores.
#   python tools/run_study.py configs/study/echo_cpu.py        (DeepLabV3 R18-D8 arms)
#   python tools/run_study.py configs/study/echo_unet_cpu.py   (UNet arms, clip pairs; inherits
#                                                               this file's data and protocol)
# Two study configs, not one: a study compares every arm with one baseline ('random') on one
# fine-tuning config, and a UNet arm against a DeepLabV3 random init would measure the
# architecture, not the pretraining. Each study has its own random baseline; they share the data.
# Data: synthetic apical four-chamber clips in EchoNet-Dynamic's layout (python -m
# mmssl_us.synthetic.cli --mode echo), written to data/echonet_synthetic when missing, then
# converted by the EchoNet converter into data/echonet (ED/ES frames and LV masks, EchoNet's
# TRAIN/VAL/TEST split by patient = video) and pooled: the frames between the two traced frames
# of every TRAIN video (study.pool.echonet), as the contrastive-echo work pretrained on. For the
# real EchoNet-Dynamic, drop `synthetic` and set convert.src / pool.echonet to its folder.
# Pretraining (CPU size): ResNet-18 (not 50), 64 px views of the 112 px frames, batch 32,
# 30 epochs; the methods' own recipes otherwise (SimCLR / BYOL: LARS at the linear-rule lr;
# DenseCL: SGD at lr 0.05, the value chosen on HC18's validation split). Not tuned on echo.
# Fine-tuning: configs/_base_/study/finetune_cpu.py (300 iterations, warm-up + poly decay, the
# best-val checkpoint tested once, the report's gates), DeepLabV3 R18-D8 on 64 px crops of the
# 112 px frames. The report gives mIoU, mDice and each class's IoU and Dice (the LV's Dice is
# what the echo literature reports).
# Paper scale (set by hand, not run here): the real EchoNet-Dynamic (10,030 videos), the full
# configs' sizes (ResNet-50 / UNet-S5 with 64 base channels, 112 px views, batch 32 per
# process, 200 epochs; fine-tuning at 112 px, batch 16, 40k iterations: drop `shrink`), and
# fractions [0.05, 0.1, 0.25, 1.0] over 5 seeds.
_base_ = ['../_base_/study/finetune_cpu.py']
data_root = 'data/echonet'
echonet_src = 'data/echonet_synthetic'
pretrain_epochs = 30
resnet_shrink = dict(depth=18, view_size=64, batch_size=32, num_workers=2,
                     max_epochs=pretrain_epochs)
pretrain_log = {'default_hooks.logger.interval': 5, 'default_hooks.checkpoint.interval': 10}

study = dict(
    data_root=data_root,
    # 60 clips (= patients) of 48 frames (two or three beats), 112x112 like EchoNet-Dynamic
    synthetic=dict(mode='echo', out=echonet_src, patients=60, frames=48, size=112, seed=0,
                   split=[0.7, 0.15, 0.15]),
    convert=dict(dataset='echonet', src=echonet_src),
    pool=dict(splits=[], echonet=echonet_src),
    pretrain=dict(
        simclr=dict(config='configs/simclr/simclr_resnet50_1xb32-coslr-200e_knee.py', shrink=resnet_shrink,
                    cfg_options=pretrain_log),
        byol=dict(config='configs/byol/byol_resnet50_1xb32-coslr-200e_knee.py', shrink=resnet_shrink,
                  cfg_options=pretrain_log),
        densecl=dict(config='configs/densecl/r50_knee.py',
                     shrink=dict(resnet_shrink, warmup_iters=20),
                     cfg_options=dict(pretrain_log, **{'optim_wrapper.optimizer.lr': 0.05}))),
    finetune=dict(
        config='configs/deeplabv3/deeplabv3_r50-d8-random_1xb16-40k_echonet-112x112.py',
        shrink=dict(img_scale=112)),
    inits=['simclr', 'byol', 'densecl', 'random'],
    fractions=[0.05, 0.25],
    seeds=[0, 1, 2],
    baseline='random',
    # The leakage guard's near-duplicate threshold, measured on this synthetic data: the ED/ES
    # frames of distinct patients (independent generator seeds) come within 15 bits of 256 (50
    # of 7080 pairs at <= 24, the default), because every frame shares the sector's geometry;
    # two frames of one patient are 24-47 bits apart. Re-encoded copies of its frames: JPEG q50
    # 0-7 bits, quarter-size PNG 1-16 (median 7), half-size JPEG q75 7-21 (median 12). At 14
    # no distinct patients are flagged and re-encoded copies still are; some resized copies
    # are not (a difference hash of a 112 px frame cannot tell them from another patient's).
    # Exact copies are found at any threshold. For real EchoNet-Dynamic, measure it again.
    leakage_near_bits=14,
)
