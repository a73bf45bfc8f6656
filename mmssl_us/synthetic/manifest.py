"""The ``synthetic.json`` manifest of a written dataset, and what a re-run may do to a folder.

The manifest records the arguments (``params``), whether writing finished (``complete``), the
counts per split and the patients of each split. A re-run with the same ``params`` completes
a folder (writing only missing files) or does nothing; other ``params`` stop with an error
unless the caller allows overwriting, which deletes only the paths in :data:`OWNED`.
"""
import json
import os
import os.path as osp
import shutil
from typing import Dict, List, Optional

from ..fileio import atomic_write

MANIFEST = 'synthetic.json'
OWNED = ('images', 'masks', 'unlabelled', MANIFEST)


def frame_paths(out_dir: str, pid: str, split: str, frame: int, width: int) -> List[str]:
    """Files of one frame: the image in unlabelled/, or the image and the mask of a split."""
    name = f'{pid}_{frame:0{width}d}.png'
    if split == 'unlabelled':
        return [osp.join(out_dir, 'unlabelled', name)]
    return [osp.join(out_dir, d, split, name) for d in ('images', 'masks')]


def read_manifest(out_dir: str) -> Optional[Dict]:
    """The manifest of ``out_dir``, or None when there is none."""
    path = osp.join(out_dir, MANIFEST)
    if not osp.isfile(path):
        return None
    try:
        with open(path, encoding='utf-8') as f:
            return json.load(f)
    except (OSError, ValueError) as exc:
        raise ValueError(f'cannot read the manifest {path}: {exc}') from exc


def write_manifest(out_dir: str, manifest: Dict) -> None:
    """Write ``out_dir/synthetic.json`` atomically."""
    atomic_write(osp.join(out_dir, MANIFEST), json.dumps(manifest, indent=2) + '\n')


def prepare_folder(out_dir: str, params: Dict, expected: List[str],
                   overwrite: bool) -> Optional[Dict]:
    """Decide what to do with ``out_dir`` before writing.

    Args:
        out_dir (str): Output folder.
        params (dict): The arguments of this run, as recorded in a manifest.
        expected (list[str]): Every file a complete dataset holds.
        overwrite (bool): Allow replacing a dataset written with other arguments.

    Returns:
        dict | None: The existing manifest when the folder is complete for ``params`` (nothing
        to write), else None (write the missing files).
    """
    if not osp.isdir(out_dir) or not os.listdir(out_dir):
        return None
    old = read_manifest(out_dir)
    if old is not None and old.get('params') == params:
        if old.get('complete') and all(osp.isfile(p) for p in expected):
            return old
        return None  # interrupted run: complete it
    if not overwrite:
        if old is not None:
            had = old.get('params') or {}
            diff = [f'{k}={had.get(k)!r} there, {v!r} asked' for k, v in params.items()
                    if had.get(k) != v]
            why = f'its {MANIFEST} records other arguments ({"; ".join(diff)})'
        else:
            why = f'it is not empty and has no {MANIFEST}'
        raise FileExistsError(f'will not write a synthetic dataset into {out_dir}: {why}. '
                              'Use an empty folder, or overwrite (--overwrite), which deletes '
                              f'{", ".join(OWNED)} there.')
    for name in OWNED:
        path = osp.join(out_dir, name)
        if osp.isdir(path):
            shutil.rmtree(path)
        elif osp.lexists(path):
            os.remove(path)
    return None


def summarise(splits: Dict[str, List[str]], effusion: Dict[str, List[int]]) -> Dict:
    """Counts per split (patients, images, images with effusion) and the patient lists."""
    counts = {}
    for name, pids in splits.items():
        flags = [x for pid in pids for x in effusion[pid]]
        counts[name] = dict(patients=len(pids), images=len(flags),
                            images_with_effusion=int(sum(flags)))
    return dict(counts=counts, patients={k: list(v) for k, v in splits.items()})
