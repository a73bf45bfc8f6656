"""Volumes: Models Genesis 3D pretraining of the network nnU-Net v2 fine-tunes.

mmsegmentation has no 3D segmentation, so this path leaves the OpenMMLab hosts for nnU-Net v2
(Isensee et al., Nature Methods 18, 2021), the tool the field fine-tunes volumes with. It never
imports mmseg or mmpretrain (docs/CONTRACTS.md). Modules:

- :mod:`.synthetic`: small synthetic 3D ultrasound volumes with labels (numpy, nibabel).
- :mod:`.convert`: a folder of NIfTI volumes (and masks) to nnU-Net's raw layout, with the
  patient split and the refusals (numpy, nibabel).
- :mod:`.nnunet`: planning, preprocessing and the network through nnU-Net's own API, the
  weight hand-off (``{'network_weights': ...}``) and its verification (needs ``nnunetv2``).
- :mod:`.pretrain`: Models Genesis restoration pretraining of that network (needs
  ``nnunetv2``).
- :mod:`.trainers`: the short nnU-Net trainer for CPU runs, found through nnU-Net's
  ``nnUNet_extTrainer`` (needs ``nnunetv2``).
- :mod:`.study`: the 3D sample-efficiency study (``configs/study/volume_quickstart.py``):
  data, planning, Genesis pretraining, the random / same-start / pretrained nnU-Net runs at
  each ratio, and their report (needs ``nnunetv2``).

Importing this package is cheap; ``nnunetv2`` (optional, ``tools/setup.sh``) is imported by
the modules that need it only.
"""
