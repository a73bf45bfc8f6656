# The README's quickstart: the whole study at a scale that finishes in minutes on 2 CPU cores.
#   python tools/run_study.py configs/study/quickstart.py
# What is shrunk, and why (the paper-scale study is configs/study/knee_paper.py):
# - data: synthetic knee recess (mmssl_us.synthetic), 128x128, 30 labelled patients x 4 frames
#   (patient-level 70/15/15 split) and 400 unlabelled images from other patients;
# - pretraining: DenseCL on ResNet-18 (not 50), 96 px views, batch 32, lr 0.05, 15 epochs (not
#   200): the recipe of configs/study/hc18_cpu.py (chosen there on the validation split of
#   real fetal-head ultrasound), shortened to fit the quickstart's time;
# - fine-tuning: FCN R18-D8, 64 px crops of 128 px images, batch 8, 60 iterations (not 40k at
#   batch 16), evaluated on the whole 128 px test images;
# - label fractions 10% and 100%, DenseCL vs its own untrained start (densecl_start, added by
#   the runner) vs random init, 3 seeds each; the online dense probe watches the pretraining.
# At this scale the numbers show that the pipeline runs end to end and what the controls say;
# the HC18 study (configs/study/hc18_cpu.py) is the one sized to measure DenseCL's effect.
data_root = 'data/knee'
pretrain_epochs = 15
finetune_iters = 60

study = dict(
    data_root=data_root,
    # generated when missing (idempotent: an existing identical dataset is reused)
    synthetic=dict(patients=30, frames=4, unlabelled=400, size=128, seed=0, workers=2),
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
    finetune=dict(
        config='configs/fcn/fcn_r50-d8-random_1xb16-40k_knee-256x256.py',
        shrink=dict(crop_size=64, img_scale=128, max_iters=finetune_iters, val_interval=20,
                    batch_size=8, depth=18, head_channels=128, num_workers=0),
        # Tuned for the 60-iteration schedule: with mmseg's lr 0.01 and an unweighted loss, 60
        # iterations end at all-background (mIoU 49.2 = background IoU / 2 in every run we
        # tried); lr 0.05 and a 5x weight on the recess (about 5% of the pixels) learn it.
        # The study prints one line per run; each run's full log is in its work dir.
        cfg_options={'log_level': 'WARNING',
                     'optim_wrapper.optimizer.lr': 0.05,
                     'model.decode_head.loss_decode.class_weight': [1.0, 5.0],
                     'default_hooks.checkpoint.interval': finetune_iters}),
    inits=['densecl', 'random'],
    fractions=[0.1, 1.0],
    seeds=[0, 1, 2],
    baseline='random',
    # t-SNE of dense features of the DenseCL backbone vs a random one on the test split
    tsne=dict(split='test', max_images=16, points_per_image=32, color='class'),
)
