# As quickstart_random_ce.py, with 600 fine-tuning iterations instead of 300 (warm-up 15,
# poly decay over the 600): does the random arm's val mIoU flatten?
_base_ = ['./quickstart_random_ce.py']
study = dict(finetune=dict(
    shrink=dict(max_iters=600),
    cfg_options={'default_hooks.checkpoint.interval': 600}))
