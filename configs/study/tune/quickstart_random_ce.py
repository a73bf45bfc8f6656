# Tuning the CPU fine-tuning protocol on the quickstart's VALIDATION split, random init only
# (the baseline gets the fair chance), seed 0, 10% and 100% of the labels. The test figures
# these runs print are not used for the choice. See README "The fine-tuning protocol".
#   python tools/run_study.py configs/study/tune/quickstart_random_ce.py
_base_ = ['../../_base_/study/finetune_cpu.py']
data_root = 'data/knee'
study = dict(
    data_root=data_root,
    synthetic=dict(patients=90, frames=4, unlabelled=400, size=128, seed=0, workers=2,
                   split=[0.3334, 0.3333, 0.3333]),
    # 300 iterations: the protocol before this tuning (finetune_cpu.py now has 600)
    finetune=dict(config='configs/fcn/fcn_r50-d8-random_1xb16-40k_knee-256x256.py',
                  shrink=dict(max_iters=300),
                  cfg_options={'default_hooks.checkpoint.interval': 300}),
    inits=['random'],
    fractions=[0.1, 1.0],
    seeds=[0],
    baseline='random',
)
