# The README's quickstart: the whole study at a scale that finishes on 2 CPU cores.
#   python tools/run_study.py configs/study/quickstart.py
# What is shrunk, and why (the paper-scale study is configs/study/knee_paper.py):
# - data: synthetic knee recess (mmssl_us.synthetic), 128x128, 90 labelled patients x 4 frames
#   split 30/30/30 by patient (train/val/test: evaluation splits of 120 images, so that a few
#   points of mIoU are not noise; training cost does not grow with them) and 400 unlabelled
#   images from other patients;
# - pretraining: DenseCL on ResNet-18 (not 50), 96 px views, batch 32, lr 0.05, 15 epochs (not
#   200): the recipe of configs/study/hc18_cpu.py (chosen there on the validation split of
#   real fetal-head ultrasound), shortened to fit the quickstart's time;
# - fine-tuning: the CPU protocol of configs/_base_/study/finetune_cpu.py (FCN R18-D8, 600
#   iterations of warm-up + poly decay, the best-val checkpoint tested), the same for every arm;
# - label fractions 10% and 100%, DenseCL vs its own untrained start (densecl_start, added by
#   the runner) vs random init, 3 seeds each; the online dense probe watches the pretraining.
# The report opens with its gates (converged, more labels help, degenerate runs) and says
# "cannot tell" where one fails.
_base_ = ['../_base_/study/finetune_cpu.py']
data_root = 'data/knee'
pretrain_epochs = 15

study = dict(
    data_root=data_root,
    # generated when missing (idempotent: an existing identical dataset is reused)
    synthetic=dict(patients=90, frames=4, unlabelled=400, size=128, seed=0, workers=2,
                   split=[0.3334, 0.3333, 0.3333]),
    pretrain=dict(
        densecl=dict(
            config='configs/densecl/r50_knee.py',
            # mmssl_us.pretrain.config_utils.pretrain_cfg_options: keys found by type (the
            # neck widths follow the depth, the cosine schedule follows max_epochs)
            shrink=dict(depth=18, view_size=96, batch_size=32, num_workers=2,
                        max_epochs=pretrain_epochs,
                        # the paper's warm-up is 1000 of ~23k iterations (~4%)
                        warmup_iters=8),
            cfg_options={
                'data_root': data_root,
                'train_dataloader.dataset.data_root': data_root,
                # the paper's linear-rule lr for batch 32 (0.00375) left a short pretraining
                # nearly unmoved (issue 9: layer-4 BN weights within 3e-4 of 1.0 after 75
                # iterations); 0.05 was chosen on HC18's validation split
                'optim_wrapper.optimizer.lr': 0.05,
                'default_hooks.logger.interval': 6,
                'default_hooks.checkpoint.interval': 5,
            })),
    # the online dense probe (linear head on the frozen backbone, 10% of train, scored on val)
    probe=dict(fraction=0.1, interval=5, size=128),
    finetune=dict(config='configs/fcn/fcn_r50-d8-random_1xb16-40k_knee-256x256.py'),
    inits=['densecl', 'random'],
    fractions=[0.1, 1.0],
    seeds=[0, 1, 2],
    baseline='random',
    # t-SNE of dense features of the DenseCL backbone vs a random one on the test split
    tsne=dict(split='test', max_images=16, points_per_image=32, color='class'),
)
