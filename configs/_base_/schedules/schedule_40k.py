# 40k iterations of SGD with a poly learning rate, mmseg 1.2.2's configs/_base_/schedules/
# schedule_40k.py (lr 0.01 for a total batch of 16, as in mmseg's 4xb4 512x512 FCN setups).
# Shrink for a quick run with --cfg-options train_cfg.max_iters=N train_cfg.val_interval=M
# param_scheduler.0.end=N default_hooks.checkpoint.interval=M (or mmssl_us.seg.seg_cfg_options).
optimizer = dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=0.0005)
optim_wrapper = dict(type='OptimWrapper', optimizer=optimizer, clip_grad=None)
param_scheduler = [
    dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=0, end=40000, by_epoch=False)
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=40000, val_interval=4000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=4000),
    # every checkpoint CheckpointHook writes (periodic, last, best) as plain data, so that
    # torch.load(path, weights_only=True) reads it without mmssl_us's allow-list
    plain_checkpoint=dict(type='PlainCheckpointHook'),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='SegVisualizationHook'))
