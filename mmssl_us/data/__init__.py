"""Host-free data code: what neither mmpretrain nor mmsegmentation is needed for.

- ``converters``: public datasets (EchoNet-Dynamic, CAMUS, HC18) to the mmssl_us folder layout.
- ``splits``: patient-level train/val/test splits; ``fractions``: patient-level label fractions.
- ``media``: finding, hashing and decoding images and video frames; ``exclusion``: keeping
  evaluation images out of the pretraining pool.
- ``hc18_csv``: the one reader of the HC18 pixel-size CSV (original release and converted).

These modules import only the standard library, numpy, OpenCV and (for NIfTI, lazily) nibabel:
never torch, mmengine, mmcv, mmseg or mmpretrain. Importing this package imports none of them.
"""
