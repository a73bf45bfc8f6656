# The label-efficiency study on your own folder of ultrasound images and masks, no code:
#   python tools/run_study.py configs/study/folder.py --cfg-options \
#       study.data_root=/path/to/data "study.classes=['background','nerve','vessel']"
# The folder (README "Your own data"; mmssl_us/data/layout.py):
#   images/train/  masks/train/     required   <patient>_<frame>.<png|jpg|...>, masks .png
#   images/test/   masks/test/      required   (label values 0..K-1, K = len(classes))
#   images/val/    masks/val/       optional   carved from train by patient when absent
#   unlabelled/                     optional   more frames or videos for pretraining
# The study never writes into the folder: it runs on a view of it (hard links) in
# <work_dir>/data, where the carved val split is recorded (layout.json) and reused on resume.
# The patient of a file is its name up to the first "_"; no patient is in two splits, and the
# pretraining pool (the train images without their labels, plus unlabelled/) leaves out every
# val/test patient and near-copies of val/test images.
# The recipe is the one chosen on HC18's validation split (configs/study/hc18_cpu.py): DenseCL on
# ResNet-18, 96 px views, batch 32, lr 0.05; fine-tuning: the CPU protocol of
# configs/_base_/study/finetune_cpu.py (FCN R18-D8 on 64 px crops of 128 px images, batch 8,
# 600 iterations of warm-up + poly decay at lr 0.02, the best-val checkpoint tested), with
# evaluation one image per pass (a folder's images may differ in size). Sized for a CPU: on a
# GPU raise pretrain_epochs, the iterations, the depth (50) and the sizes with --cfg-options
# (e.g. study.finetune.shrink.max_iters=2000), and choose them on the validation split, never
# on test. The report's "converged" gate says when the iterations were too few for your data.
_base_ = ['../_base_/study/finetune_cpu.py']
data_root = None  # required: --cfg-options study.data_root=DIR
pretrain_epochs = 100

study = dict(
    data_root=data_root,
    classes=None,  # required: background first, label i is classes[i]
    # the view in <work_dir>/data: val carved from train (fraction of the patients, seeded)
    # when the folder has none; mask_suffix follows the mask's stem ('_mask.png' for sets that
    # name masks so)
    folder=dict(val=0.15, seed=0, mask_suffix='.png'),
    # the pretraining pool: the train split's images without labels (val/test never), next to
    # the folder's own unlabelled/ if any; add folders of frames or videos with extra=[...]
    pool=dict(splits=['train'], extra=[]),
    pretrain=dict(
        densecl=dict(
            config='configs/densecl/r50_knee.py',
            shrink=dict(depth=18, view_size=96, batch_size=32, num_workers=2,
                        max_epochs=pretrain_epochs, warmup_iters=20),
            cfg_options={
                'train_dataloader.dataset.exclude': ['images/val', 'images/test'],
                'optim_wrapper.optimizer.lr': 0.05,
                'default_hooks.logger.interval': 10,
                'default_hooks.checkpoint.interval': 10,
            })),
    probe=dict(fraction=0.1, interval=10, size=128),
    finetune=dict(
        config='configs/fcn/fcn_r50-d8-random_1xb16-40k_folder-256x256.py',
        shrink=dict(eval_batch_size=1)),
    inits=['densecl', 'random'],
    fractions=[0.1, 1.0],
    seeds=[0, 1, 2],
    baseline='random',
)
