# DenseCL / MoCo v2 schedule (Wang et al. 2021; Chen et al. 2020): SGD, momentum 0.9,
# weight decay 1e-4, cosine decay over 200 epochs, lr 0.03 for a total batch of 256.
optim_wrapper = dict(
    type='OptimWrapper',
    # linear scaling rule (Goyal et al. 2017) from the paper's 0.03 at a total batch of 256 to
    # our total batch of 32 (one process x 32): lr = 0.03 * 32 / 256 = 0.00375
    optimizer=dict(type='SGD', lr=0.03 * 32 / 256, weight_decay=1e-4, momentum=0.9))
param_scheduler = [
    dict(type='CosineAnnealingLR', T_max=200, by_epoch=True, begin=0, end=200)
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=200)
# --auto-scale-lr rescales lr linearly when the real total batch differs from 32
auto_scale_lr = dict(base_batch_size=32)
