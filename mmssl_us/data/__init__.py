"""Host-free data code: what neither mmpretrain nor mmsegmentation is needed for.

- ``converters``: public datasets (EchoNet-Dynamic, CAMUS, HC18) to the mmssl_us folder layout.
- ``splits``: patient-level train/val/test splits and the one patient-id rule
  (``patient_id``); ``fractions``: patient-level label fractions.
- ``media``: finding, hashing and decoding images and video frames; ``exclusion``: keeping
  evaluation images and patients out of the pretraining pool; ``pool``: building the pool;
  ``leakage``: the report of duplicates and shared patients within and across splits and the
  pool (``find_leakage``, ``python -m mmssl_us.data.leakage DATA_ROOT``).
- ``hc18_csv``: the one reader of the HC18 pixel-size CSV (original release and converted).

These modules import only the standard library, numpy, OpenCV and (for NIfTI, lazily) nibabel:
never torch, mmengine, mmcv, mmseg or mmpretrain. Importing this package imports none of them.
"""
