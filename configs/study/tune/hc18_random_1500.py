# Is 600 iterations enough on HC18? The HC18 study under the 600-iteration protocol failed its
# converged gate (random init: best val mIoU still rising by up to 6.59 over the last quarter).
# This runs the random arm only (the baseline gets the fair chance), seed 0, at the study's two
# fractions, for 1500 iterations (warm-up 15, poly decay over the 1500), on HC18's VALIDATION
# split: where does its best val mIoU flatten? The test figures it prints are not used.
#   python tools/run_study.py configs/study/tune/hc18_random_1500.py
_base_ = ['../../_base_/study/finetune_cpu.py']
data_root = 'data/hc18'
study = dict(
    data_root=data_root,
    convert=dict(dataset='hc18', src='../shared/data/hc18', seed=0, val=0.1, test=0.2),
    finetune=dict(config='configs/fcn/fcn_r50-d8-random_1xb16-40k_hc18-256x256.py',
                  shrink=dict(max_iters=1500, eval_batch_size=1),
                  cfg_options={'default_hooks.checkpoint.interval': 1500}),
    inits=['random'],
    fractions=[0.05, 0.2],
    seeds=[0],
    baseline='random',
)
