# Runtime of the mmssl_us segmentation configs (mmseg 1.2.2's default_runtime.py plus the plugin).
# Explicit scope and plugin import; host configs are never inherited by package name (the
# mmseg double-colon form breaks the dataloader: docs/ENVIRONMENT.md, trap 4).
default_scope = 'mmseg'
custom_imports = dict(imports=['mmssl_us.seg'], allow_failed_imports=False)
env_cfg = dict(
    cudnn_benchmark=True,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'),
)
vis_backends = [dict(type='LocalVisBackend')]
# no fixed `name`: the Runner then names the visualizer after its experiment, so several runs in
# one process (the study runner, the t-SNE tool) each write their own vis_data
visualizer = dict(type='SegLocalVisualizer', vis_backends=vis_backends)
log_processor = dict(by_epoch=False)
log_level = 'INFO'
load_from = None
resume = False
# the training seed (override with randomness.seed=N); the label-fraction draw has its own
# train_dataloader.dataset.fraction_seed
randomness = dict(seed=0)
# writes <work_dir>/label_fraction_train.txt: the images trained on, the fraction and its seed
custom_hooks = [dict(type='LabelFractionHook')]
