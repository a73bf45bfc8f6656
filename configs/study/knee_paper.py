# The label-efficiency study at the published scale (DenseCL on knee recess ultrasound):
#   python tools/run_study.py configs/study/knee_paper.py
# ResNet-50 DenseCL for 200 epochs at batch 32 (configs/densecl/r50_knee.py), then FCN R50-D8
# for 40k iterations at batch 16 (configs/fcn/..._knee-256x256.py) at label fractions 1%, 5% and
# 100%, DenseCL vs random init, 3 seeds: 1 pretraining + 18 fine-tuning runs.
# It reads data/knee in the layout of docs/CONTRACTS.md (the study's knee data is private: put
# yours there, or add `synthetic=dict(...)` below to generate the synthetic stand-in).
# Other pretrainings as further initialisations: add e.g.
#   simclr=dict(config='configs/simclr/simclr_resnet50_1xb32-coslr-200e_knee.py') to `pretrain` and 'simclr' to `inits`
# (or give an already converted backbone with extra_inits=dict(simclr='path/backbone.pth')).
# A smaller study: give a pretraining spec `shrink=dict(depth=18, view_size=96, max_epochs=20)`
# (mmssl_us.pretrain.config_utils.pretrain_cfg_options) and the fine-tuning spec
# `shrink=dict(crop_size=..., max_iters=...)` (mmssl_us.seg.config_utils.seg_cfg_options), as
# configs/study/quickstart.py does; `cfg_options` in either spec is applied after `shrink`.
study = dict(
    data_root='data/knee',
    pretrain=dict(densecl=dict(config='configs/densecl/r50_knee.py')),
    finetune=dict(config='configs/fcn/fcn_r50-d8-random_1xb16-40k_knee-256x256.py'),
    # the online dense probe in the pretraining (a linear head on the frozen backbone, fitted
    # on the 5% subset of the train split, scored on val every 10 epochs); the runner also adds
    # the same-start arm densecl_start (DenseCL's own untrained weights)
    probe=dict(fraction=0.05, interval=10, size=256),
    inits=['densecl', 'random'],
    fractions=[0.01, 0.05, 1.0],
    seeds=[0, 1, 2],
    baseline='random',
    tsne=dict(split='test', max_images=50, points_per_image=64, color='class'),
)
