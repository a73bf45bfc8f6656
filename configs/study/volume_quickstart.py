# The 3D sample-efficiency study on 2 CPU cores: Models Genesis pretraining of the network
# nnU-Net v2 fine-tunes, handed to nnU-Net, against random init and the same-start control.
#   python tools/run_study.py configs/study/volume_quickstart.py
# Needs the optional nnunetv2 (tools/setup.sh installs it). Data: synthetic 32-voxel volumes
# (mmssl_us.volume.synthetic; an ellipsoid under speckle and depth attenuation): 20 labelled
# patients (split by patient: 30% test, 20% of the rest val, the rest train) and 40 unlabelled
# ones for the pretraining. Ratios unlabelled:labelled 10:1 and 4:1 (the thesis's: Models
# Genesis before nnU-Net on CT, +1.8 / +1.6 mean Dice) draw 4 and 10 labelled training
# volumes, nested, at the patient level, per seed. For your own NIfTI volumes set
# volume.src=FOLDER (images/, masks/, unlabelled/; README "Volumes (3D)").
# Fine-tuning: nnU-Net's own trainer, shortened (nnUNetTrainerMMSSLShort: `epochs` epochs of
# `iters` iterations), the same for every arm. val_iters='all': every val volume once an epoch,
# the same batches every epoch (nnU-Net draws its val cases at random, with replacement: over
# the last 6 epochs of one run, same seed and fold, the pseudo Dice moved by up to 1.8 points
# from epoch to epoch with nnU-Net's draws and by up to 0.3 with the fixed batches);
# ema=0: checkpoint_best is the epoch of the best val pseudo Dice (nnU-Net's 0.9 moving
# average, a ten-epoch time constant, still rose 2.4-3.6 points at the end of every 10-epoch
# run while the epoch's own Dice had flattened), and the test split is predicted with it.
# 10 epochs of 8 iterations: random init flattens by epoch 5-6 at 4 labelled volumes (measured
# on val, README "Volumes (3D)"). The report's gates say whether the runs had converged.
volume = dict(
    synthetic=dict(n_labelled=20, n_unlabelled=40, size=32, seed=0),
    dataset_id=501,
    name='VolumeQuickstart',
    label_names=['structure'],
    split=dict(val=0.2, test=0.3, seed=0),
    pretrain=dict(steps=100, batch_size=2, lr=1e-3, seed=0),
    finetune=dict(epochs=10, iters=8, val_iters='all', ema=0.0),
    ratios=[10, 4],
    seeds=[0, 1],
    inits=['random', 'genesis', 'genesis_start'],
    baseline='random',
)
