# configs/study/knee_paper.py with every pretraining of this project as an initialisation:
# DenseCL, MoCo v2, SimCLR and BYOL (same data and ultrasound augmentations) vs random init.
_base_ = ['./knee_paper.py']
study = dict(
    pretrain=dict(
        densecl=dict(config='configs/densecl/r50_knee.py'),
        mocov2=dict(config='configs/mocov2/mocov2_resnet50_1xb32-coslr-200e_knee.py'),
        simclr=dict(config='configs/simclr/simclr_resnet50_1xb32-coslr-200e_knee.py'),
        byol=dict(config='configs/byol/byol_resnet50_1xb32-coslr-200e_knee.py')),
    inits=['densecl', 'mocov2', 'simclr', 'byol', 'random'],
)
