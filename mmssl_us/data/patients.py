"""The one patient-id rule of the project (host-free).

A file's patient is its file name, without the suffix, up to the first ``_``:
``P07_0003.png``, ``P07_clip2.mp4`` and ``P07.avi`` all belong to patient ``P07``; HC18's
``010_HC.png`` and ``010_2HC.png`` to ``010``. Datasets with their own naming (EchoNet's
``<video>_<frame>``, CAMUS's ``patientNNNN_...``) override ``patient_of`` in
:mod:`mmssl_us.seg.datasets`; everything else (label fractions, splits, the pool's exclusion,
the leakage report) uses :func:`patient_id`.
"""
import os.path as osp

__all__ = ['patient_id']


def patient_id(path: str) -> str:
    """The patient of ``path`` (a path or a bare file name): its stem up to the first ``_``.

    Args:
        path (str): A file path or name.

    Returns:
        str: The patient id (the whole stem when it has no ``_``).
    """
    stem = osp.splitext(osp.basename(path))[0]
    return stem.split('_', 1)[0]
