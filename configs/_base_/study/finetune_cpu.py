# The fine-tuning protocol of the CPU studies (quickstart, HC18, the folder study): one recipe
# for every arm, sized so that random init reaches its plateau on 2 CPU cores.
# - FCN R18-D8, 64 px crops of 128 px images, batch 8;
# - SGD lr 0.01 (mmseg's; chosen over 0.02 on the quickstart's validation split for the random
#   arm, the baseline: README "Fine-tuning protocol"), momentum 0.9, wd 5e-4; a linear warm-up
#   over the first 20 iterations (mmengine LinearLR from 0.1x), then mmseg's poly decay
#   (power 0.9) to 1e-4 at the last iteration;
# - 400 iterations: the random arm's val mIoU has flattened by then on the quickstart (it rose
#   by < 1 point over the last quarter; the report's "converged" gate checks it in every run);
# - validation every 40 iterations on the whole val split; the checkpoint that validated best
#   is the one tested (mmssl_us.study.finetune: CheckpointHook save_best='mIoU'), and the
#   results row records its iteration;
# - evaluation 8 images per forward pass where the split's images share one size (the metric
#   does not change; benchmarks/bench_study_run.py checks it); set eval_batch_size=1 otherwise.
finetune_iters = 400
study = dict(
    finetune=dict(
        shrink=dict(crop_size=64, img_scale=128, max_iters=finetune_iters, val_interval=40,
                    warmup_iters=20, batch_size=8, depth=18, head_channels=128,
                    num_workers=0, eval_batch_size=8),
        # the study prints one line per run; each run's full log is in its work dir
        cfg_options={'log_level': 'WARNING',
                     'optim_wrapper.optimizer.lr': 0.01,
                     'default_hooks.checkpoint.interval': finetune_iters}))
