# The fine-tuning protocol of the CPU studies (quickstart, HC18, the folder study): one recipe
# for every arm, sized so that random init reaches its plateau on 2 CPU cores.
# - FCN R18-D8, 64 px crops of 128 px images, batch 8;
# - SGD lr 0.02, momentum 0.9, wd 5e-4, chosen over mmseg's 0.01 on the quickstart's
#   validation split for the random arm (the baseline), 400-iteration runs, seed 0: best val
#   mIoU 86.70 vs 84.34 with all the labels, 83.33 vs 82.30 with 10% (README "Fine-tuning
#   protocol"); a linear warm-up over the first 15 iterations (mmengine LinearLR from 0.1x),
#   then mmseg's poly decay (power 0.9) to 1e-4 at the last iteration;
# - 600 iterations, chosen on the quickstart's val split for the random arm (seed 0;
#   configs/study/tune/): at 300 its best val mIoU still rose over the last quarter (10%:
#   74.85 at 200 -> 82.87 at 300), at 600 it had flattened (10%: best 83.30 by 450, 83.33
#   after; 100%: 87.22 by 450, 87.26 after). Cross-entropy + Dice (mmseg DiceLoss) at 300 did
#   not help on val (82.87 / 85.44 vs 83.87 / 86.07 with cross-entropy alone) and is not used;
# - validation every 50 iterations on the whole val split; the checkpoint that validated best
#   is the one tested (mmssl_us.study.finetune: CheckpointHook save_best='mIoU'), and the
#   results row records its iteration;
# - evaluation 8 images per forward pass where the split's images share one size (the metric
#   does not change; benchmarks/bench_study_run.py checks it); set eval_batch_size=1 otherwise.
finetune_iters = 600
study = dict(
    finetune=dict(
        shrink=dict(crop_size=64, img_scale=128, max_iters=finetune_iters, val_interval=50,
                    warmup_iters=15, batch_size=8, depth=18, head_channels=128,
                    num_workers=0, eval_batch_size=8),
        # the study prints one line per run; each run's full log is in its work dir
        cfg_options={'log_level': 'WARNING',
                     'optim_wrapper.optimizer.lr': 0.02,
                     'default_hooks.checkpoint.interval': finetune_iters}))
