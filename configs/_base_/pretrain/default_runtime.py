# Runtime shared by the pretraining configs (mmpretrain scope, our plugin imported).
default_scope = 'mmpretrain'
custom_imports = dict(imports=['mmssl_us.pretrain'], allow_failed_imports=False)

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=10),
    param_scheduler=dict(type='ParamSchedulerHook'),
    # the last 3 checkpoints, every 10 epochs; tools/model_converters/pretrain2seg.py reads
    # the work dir's last_checkpoint
    checkpoint=dict(type='CheckpointHook', interval=10, max_keep_ckpts=3),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    # checkpoints as plain data (no mmengine HistoryBuffer / numpy objects), so that
    # torch.load(path, weights_only=True) reads them anywhere, mmssl_us imported or not;
    # --resume rebuilds them exactly. Here and not in custom_hooks: the method configs replace
    # the custom_hooks list, while default_hooks is a dict merged key by key.
    plain_checkpoint=dict(type='PlainCheckpointHook'),
)

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'),
)

vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='UniversalVisualizer', vis_backends=vis_backends)
log_processor = dict(window_size=10)
log_level = 'INFO'
load_from = None
resume = False
# a fixed seed makes a pretraining run repeatable (override with --cfg-options randomness.seed=N)
randomness = dict(seed=0, deterministic=False)
