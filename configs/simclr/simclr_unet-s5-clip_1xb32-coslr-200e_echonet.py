# SimCLR of the UNet-S5 encoder with clip-pair positives (USCL, Chen et al., MICCAI 2021): the
# two views of a sample are two frames of one echo clip at most 4 frames apart (at 50 fps,
# 80 ms: the wall has moved, the anatomy is the same) instead of two crops of one frame; a clip
# of one frame falls back to two crops of it. Otherwise simclr_unet-s5_1xb32-coslr-200e_echonet.py.
_base_ = ['./simclr_unet-s5_1xb32-coslr-200e_echonet.py']
clip_distance = 4
train_dataloader = dict(dataset=dict(clip_pairs=clip_distance,
                                     pipeline={{_base_.clip_pipeline}}))
