"""Assemble a pretraining pool under ``<data_root>/unlabelled`` from labelled splits and other
folders (numpy / OpenCV only).

A study whose data has no unlabelled frames of its own pretrains on the training images without
their labels, plus any extra folders of unlabelled images named in its config. Only the
training split is ever taken from the labelled data: validation and test images (and so their
patients) never enter the pool. Files are hard-linked where the file system allows it and copied
otherwise; existing files of the same size are kept, so building the pool twice does nothing.

Patient ids of pool files. The pool dataset and the leakage check read a patient id from every
pool file name by one rule (``patient_rule``, :func:`mmssl_us.data.splits.patient_id`) and leave
out / report the files of val and test patients. With the default rule, ``'prefix'`` (the stem
up to the first ``_``), a training image keeps its name and so its patient; an extra file
``<extra>/<sub>/<file>`` becomes ``extra_<extra>/<sub>__<file>`` and its id is the prefix of
that flattened name: the name of its first sub-folder (up to a ``_``), or of the file when it
lies directly in the extra folder. That is right for a folder per patient (``P07/frame_3.png``
-> ``P07``) and for files named by patient (``P07_clip2.mp4`` -> ``P07``). An extra folder of
another dataset, whose names are not this dataset's patients, can collide by accident (its
``001.png`` would count as the test patient ``001``): set ``patient_rule='none'`` on the pool
dataset (and ``--patient-rule none`` for the leakage check) when the pool's names carry no
patient of the labelled data; exclusion by name, md5 and content still applies.
"""
import os
import os.path as osp
import re
from typing import Dict, Optional, Sequence

from ..fileio import link_or_copy
from .media import IMAGE_SUFFIXES, scan_media

__all__ = ['build_pool']

_SAFE = re.compile(r'[^A-Za-z0-9._-]+')


def build_pool(data_root: str, splits: Sequence[str] = ('train',),
               extra: Sequence[str] = (), folder: str = 'unlabelled',
               echonet: Optional[str] = None) -> Dict[str, int]:
    """Fill ``<data_root>/<folder>`` with the images of ``splits`` and of ``extra`` folders.

    Args:
        data_root (str): Dataset root in the knee layout (``images/<split>/...``).
        splits (Sequence[str]): Labelled splits whose images join the pool; 'val' and 'test'
            are refused. Defaults to ('train',).
        extra (Sequence[str]): Further folders of unlabelled images (searched at any depth);
            each lands in ``<folder>/extra_<its name>/`` with sub-folders flattened into the
            file name. Defaults to ().
        folder (str): Pool folder under ``data_root``. Defaults to 'unlabelled'.
        echonet (str, optional): An EchoNet-Dynamic folder (the public release, or the
            synthetic one): the frames between the two traced frames of each TRAIN video, as
            clips in ``<folder>/echonet/<FileName>.avi`` (their patient is the video, as in
            the converted frames; :func:`~mmssl_us.data.converters.echonet.write_between_frames`).
            ``splits`` may then be empty. Defaults to None.

    Returns:
        dict[str, int]: Images in the pool per source (split name or extra folder).

    Raises:
        ValueError: a val/test split is asked for.
        FileNotFoundError: a split or extra folder does not exist or holds no image.
    """
    bad = [s for s in splits if s in ('val', 'test')]
    if bad:
        raise ValueError(f'the pretraining pool never takes evaluation splits, got {bad}')
    pool = osp.join(data_root, folder)
    counts: Dict[str, int] = {}
    if echonet is not None:
        from .converters.echonet import write_between_frames
        counts['echonet between-frames'] = write_between_frames(echonet,
                                                                osp.join(pool, 'echonet'))
    sources = [(s, osp.join(data_root, 'images', s), s) for s in splits]
    sources += [(e, e, 'extra_' + _SAFE.sub('-', osp.basename(osp.normpath(e)))) for e in extra]
    for name, src_dir, sub in sources:
        if not osp.isdir(src_dir):
            raise FileNotFoundError(f'pool source folder not found: {src_dir}')
        images, _ = scan_media(src_dir, IMAGE_SUFFIXES, ())
        if not images:
            raise FileNotFoundError(f'pool source {src_dir} holds no image '
                                    f'({", ".join(IMAGE_SUFFIXES)})')
        for path in images:
            rel = osp.relpath(path, src_dir)
            link_or_copy(path, osp.join(pool, sub, _SAFE.sub('-', rel.replace(os.sep, '__'))))
        counts[name] = len(images)
    return counts
