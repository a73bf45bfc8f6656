"""Write a synthetic knee dataset in the folder layout of docs/CONTRACTS.md.

::

    out_dir/
      images/{train,val,test}/S0001_000.png   labelled patients, split at patient level
      masks/{train,val,test}/S0001_000.png    0 background, 1 effusion
      unlabelled/S0041_000.png                 pretraining pool from other patients
      synthetic.json                           manifest: arguments, counts, patient lists

Patient ``k`` (0-based, labelled first, then unlabelled) is the generator's patient
``derive_seed(seed, k)``; its frames are frames 0, 1, ... of that patient, so frames share
geometry and anatomy and differ by small motion and speckle. Re-running with the same
arguments on a complete folder writes nothing; different arguments into a folder that is not
empty stop with an error unless ``overwrite``.
"""
import math
import multiprocessing as mp
import os
import sys
import time
from typing import Dict, List, Sequence, Tuple, Union

import cv2
import numpy as np

from ..data.splits import SPLITS, patient_splits
from ..fileio import atomic_write
from ..validate import check_int
from .generator import GENERATOR_VERSION, derive_seed, generate_frame, validate_args
from .manifest import frame_paths, prepare_folder, summarise, write_manifest

DESCRIPTION = ('Synthetic knee suprapatellar-recess B-mode images (mmssl_us.synthetic). Masks: '
               '0 background, 1 effusion. Patient ids are the file stem up to the first "_"; '
               'splits are at patient level; unlabelled/ holds other patients. Rebuild any '
               'frame with generate_frame(derive_seed(seed, k), frame, size, geometry), k the '
               '0-based patient index (S0001 is k = 0).')


def _write_png(path: str, array: np.ndarray) -> None:
    """Write a PNG atomically (a partial file never carries the final name)."""
    ok, buf = cv2.imencode('.png', array)
    if not ok:
        raise OSError(f'cannot encode {path}')
    atomic_write(path, buf.tobytes())


def _patient_job(job: Tuple) -> Tuple[str, int, List[int]]:
    """Write the missing frames of one patient; return (id, frames written, effusion flags)."""
    out_dir, pid, split, patient_seed, n_frames, size, geometry, width = job
    written, effusion = 0, []
    for f in range(n_frames):
        paths = frame_paths(out_dir, pid, split, f, width)
        sample = generate_frame(patient_seed, f, size, geometry)
        effusion.append(int(sample.mask.any()))
        if all(os.path.isfile(p) for p in paths):
            continue
        for path, array in zip(paths, (sample.image, sample.mask)):
            _write_png(path, array)
        written += 1
    return pid, written, effusion


def _init_worker() -> None:
    cv2.setNumThreads(1)


def _check_counts(n_patients: int, frames: int, n_unlabelled: int, workers: int) -> None:
    for name, value, low in (('n_patients', n_patients, 0), ('frames_per_patient', frames, 1),
                             ('n_unlabelled', n_unlabelled, 0), ('workers', workers, 1)):
        check_int(name, value, low=low)
    if n_patients == 0 and n_unlabelled == 0:
        raise ValueError('nothing to write: n_patients and n_unlabelled are both 0')


def _plan(params: Dict) -> Tuple[List[Tuple], Dict]:
    """Jobs (one per patient) and the patient lists of each split."""
    n_lab, fpp, n_unl = params['n_patients'], params['frames_per_patient'], params['n_unlabelled']
    n_unl_patients = math.ceil(n_unl / fpp)
    id_width = max(4, len(str(n_lab + n_unl_patients)))
    frame_width = max(3, len(str(fpp - 1)))
    ids = [f'S{k + 1:0{id_width}d}' for k in range(n_lab + n_unl_patients)]
    splits = patient_splits(ids[:n_lab], params['split'], params['seed'])
    splits['unlabelled'] = ids[n_lab:]
    split_of = {pid: name for name, pids in splits.items() for pid in pids}
    jobs = []
    for k, pid in enumerate(ids):
        n_frames = fpp if k < n_lab else min(fpp, n_unl - (k - n_lab) * fpp)
        jobs.append((pid, split_of[pid], derive_seed(params['seed'], k), n_frames, frame_width))
    return jobs, splits


def _progress(done: int, total: int, start: float, stream) -> None:
    rate = done / max(time.perf_counter() - start, 1e-9)
    eta = (total - done) / rate if rate > 0 else float('inf')
    print(f'[synthetic] {done}/{total} images ({100 * done / total:.0f}%), {rate:.1f} img/s, '
          f'ETA {eta:.0f} s', file=stream, flush=True)


def write_knee_dataset(out_dir: str, n_patients: int = 40, frames_per_patient: int = 5,
                       n_unlabelled: int = 400, split: Sequence[float] = (0.7, 0.15, 0.15),
                       seed: int = 0, size: Union[int, Tuple[int, int]] = (256, 256),
                       geometry: str = 'random', workers: int = 1, overwrite: bool = False,
                       progress_every: int = 200, stream=sys.stderr) -> Dict:
    """Write (or complete) a synthetic knee dataset; see the module docstring for the layout.

    Args:
        out_dir (str): Output folder (created if missing).
        n_patients (int): Labelled patients. Defaults to 40.
        frames_per_patient (int): Frames per patient (labelled and unlabelled). Defaults to 5.
        n_unlabelled (int): Images in the unlabelled pool. Defaults to 400.
        split (Sequence[float]): Train, val and test fractions of the labelled patients
            (non-negative, summing to 1). Defaults to (0.7, 0.15, 0.15).
        seed (int): Dataset seed. Defaults to 0.
        size (int | tuple[int, int]): Image height and width. Defaults to (256, 256).
        geometry (str): 'random', 'linear' or 'convex'. Defaults to 'random'.
        workers (int): Processes generating patients in parallel. Defaults to 1.
        overwrite (bool): Replace a dataset written with other arguments (deletes only
            images/, masks/, unlabelled/ and the manifest). Defaults to False.
        progress_every (int): Print a progress line every this many images. Defaults to 200.
        stream (file): Where progress goes. Defaults to sys.stderr.

    Returns:
        dict: The manifest (also written to ``out_dir/synthetic.json``).
    """
    size = validate_args(seed, size, geometry)
    _check_counts(n_patients, frames_per_patient, n_unlabelled, workers)
    params = dict(generator='mmssl_us.synthetic', generator_version=GENERATOR_VERSION,
                  seed=int(seed), n_patients=int(n_patients),
                  frames_per_patient=int(frames_per_patient), n_unlabelled=int(n_unlabelled),
                  split=[float(x) for x in split], size=list(size), geometry=geometry)
    jobs, splits = _plan(params)  # validates split
    expected = [p for pid, sp, _, n, w in jobs for f in range(n)
                for p in frame_paths(out_dir, pid, sp, f, w)]
    done_before = prepare_folder(out_dir, params, expected, overwrite)
    if done_before is not None:
        print(f'[synthetic] {out_dir} is complete for these arguments: nothing to do',
              file=stream, flush=True)
        return dict(done_before, written=0)
    for sub in [f'{d}/{sp}' for d in ('images', 'masks') for sp in SPLITS] + ['unlabelled']:
        os.makedirs(os.path.join(out_dir, sub), exist_ok=True)
    write_manifest(out_dir, dict(params=params, complete=False))

    total = sum(j[3] for j in jobs)
    tasks = [(out_dir, pid, sp, ps, n, size, geometry, w) for pid, sp, ps, n, w in jobs]
    effusion, written, done, start = {}, 0, 0, time.perf_counter()
    next_report = progress_every
    def consume(results):
        nonlocal written, done, next_report
        for pid, n_written, flags in results:
            effusion[pid] = flags
            written += n_written
            done += len(flags)
            if done >= next_report or done == total:
                _progress(done, total, start, stream)
                next_report = done + progress_every

    if workers > 1:
        with mp.get_context('spawn').Pool(workers, _init_worker) as pool:
            consume(pool.imap_unordered(_patient_job, tasks))
    else:
        consume(map(_patient_job, tasks))
    manifest = dict(params=params, complete=True, description=DESCRIPTION,
                    **summarise(splits, effusion))
    write_manifest(out_dir, manifest)
    return dict(manifest, written=written)
