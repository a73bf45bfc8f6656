"""The label-efficiency study: pretrain once, fine-tune label fraction x initialisation x seed,
evaluate on the fixed test split, and write results.csv, results.md and plots.

A study is an mmengine config holding one ``study`` dict (see ``configs/study/``)::

    study = dict(
        data_root='data/knee',            # the knee layout of docs/CONTRACTS.md
        synthetic=dict(patients=..., ...),  # optional: generate the data when it is missing
        pretrain=dict(densecl=dict(config=..., shrink=..., cfg_options=..., checkpoint=None)),
        probe=dict(fraction=0.1, interval=10),  # DenseProbeHook in every pretraining
        extra_inits=dict(simclr='path/backbone.pth'),  # other pretrainings, already converted
        finetune=dict(config=..., shrink=dict(crop_size=..., max_iters=..., depth=...),
                      cfg_options=...),  # shrink: mmssl_us.seg.config_utils.seg_cfg_options
        inits=['densecl', 'random'], fractions=[0.05, 1.0], seeds=[0, 1, 2],
        baseline='random')

The data step (:mod:`.data`) generates, converts and pools the data. Each pretraining
(:mod:`.pretraining`) runs as a fresh process, ``python -m mmssl_us.launch train`` (so an
interrupted pretraining resumes with ``--resume auto``); its backbone and the backbone it started
from are converted and verified in this process. Every pretraining ``p`` brings a same-start arm
``p_start`` (its own untrained starting weights; ``same_start=False`` turns it off), so that the
report can tell what pretraining itself added from what its init scheme did. Fine-tuning
(:mod:`.finetune`) runs in this process, one mmengine Runner per run, or with ``jobs=N`` in N
spawned worker processes at once, each on its share of the threads. Nothing runs through the
repository's ``tools/``.
A run counts as finished once its row is in ``results.csv``; a run folder without a row is a
half-written run and is started again from scratch.
"""
from __future__ import annotations

import copy
import os
import os.path as osp
import shutil
import time
from typing import Callable, Dict, List, Optional, Sequence

from ..fileio import clean_stale_temporaries
from ..process import WorkDirLock
from ..validate import did_you_mean

from .data import ensure_data
from .finetune import RunKey, finetune_options, finetune_once
from .fingerprint import (check_fingerprint, check_run_digests, record_fingerprint,
                          settings_digest)
from .pretraining import START_SUFFIX, Pretrained, pretrain
from .report import write_report
from .results import append_row, read_results
from .spec import STUDY_KEYS, check_fractions, check_seeds, check_study, setting

__all__ = ['RunKey', 'plan_runs', 'run_study', 'load_study_cfg', 'format_duration', 'Progress',
           'ensure_data', 'pretrain', 'check_inits', 'STUDY_KEYS']


def plan_runs(inits: Sequence[str], fractions: Sequence[float],
              seeds: Sequence[int]) -> List[RunKey]:
    """All runs of the study, smallest fraction first (the quick answers come first)."""
    if not inits or not fractions or not seeds:
        raise ValueError(f'a study needs inits, fractions and seeds; got inits={list(inits)}, '
                         f'fractions={list(fractions)}, seeds={list(seeds)}')
    fractions, seeds = check_fractions(fractions), check_seeds(seeds)
    if len(set(inits)) != len(inits):
        raise ValueError(f'duplicate initialisations in {list(inits)}')
    return [RunKey(i, f, s) for f in sorted(fractions) for s in seeds for i in inits]


def format_duration(seconds: float) -> str:
    seconds = int(round(seconds))
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f'{h}h{m:02d}m' if h else (f'{m}m{s:02d}s' if m else f'{s}s')


class Progress:
    """'run i of n' with an ETA from the mean duration of the runs done in this session
    (``jobs`` of them running at once)."""

    def __init__(self, total: int, done: int, printer: Callable[[str], None] = print,
                 jobs: int = 1):
        self.total, self.done, self.printer, self.jobs = total, done, printer, jobs
        self.started = done
        self.durations: List[float] = []
        self.start = time.time()

    def begin(self, key: RunKey) -> None:
        remaining = self.total - self.done
        mean = sum(self.durations) / len(self.durations) if self.durations else None
        eta = (f'ETA {format_duration(remaining * mean / self.jobs)}' if mean is not None
               else 'ETA after the first run')
        self.started += 1
        self.printer(f'[study] run {self.started}/{self.total}: {key.name} | elapsed '
                     f'{format_duration(time.time() - self.start)} | {eta}')

    def end(self, seconds: float) -> None:
        self.done += 1
        self.durations.append(seconds)


def check_inits(study: Dict) -> None:
    """Every init is 'random', a pretraining, an extra backbone or a pretraining's start arm."""
    known = {'random', *setting(study, 'pretrain'), *setting(study, 'extra_inits')}
    known |= {p + START_SUFFIX for p in setting(study, 'pretrain')}
    for init in study.get('inits') or []:
        parent = init[:-len(START_SUFFIX)] if init.endswith(START_SUFFIX) else None
        if parent in setting(study, 'pretrain') and parent not in study['inits']:
            raise ValueError(f'study.inits: {init!r} is the same-start arm of {parent!r}, '
                             f'which must be in study.inits too')
        if init not in known:
            raise ValueError(f'study.inits: {init!r} is neither random, nor in study.pretrain, '
                             f'nor in study.extra_inits' + did_you_mean(init, known))


def _call_pretrain(pretrain_fn: Callable, name: str, study: Dict, work_dir: str,
                   log: Callable[[str], None]) -> Pretrained:
    """The pretraining step: ``pretrain_fn`` has :func:`.pretraining.pretrain`'s signature
    and returns its :class:`.pretraining.Pretrained`."""
    out = pretrain_fn(name, study['pretrain'][name], work_dir, log, study=study)
    if not isinstance(out, Pretrained):
        raise TypeError(f'the pretraining step {pretrain_fn!r} returned {out!r} for {name!r}, '
                        'not a mmssl_us.study.pretraining.Pretrained')
    return out


def _with_start_arms(inits: Sequence[str], pretrainings: Dict[str, Pretrained],
                     enabled: bool) -> List[str]:
    """The study's inits with each pretraining's same-start arm right after it."""
    out: List[str] = []
    for init in inits:
        if init not in out:
            out.append(init)
        rec = pretrainings.get(init)
        if enabled and rec is not None and rec.start_arm and rec.start_arm not in out:
            out.append(rec.start_arm)
    return out


def load_study_cfg(study_cfg_path: str, cfg_options: Optional[Dict] = None):
    """The study config with ``cfg_options`` merged (``study.data_root=...``); unknown top-level
    keys and unknown keys at any level of ``study`` (:func:`.spec.check_study`) are refused
    with a did-you-mean, as are malformed or repeated seeds and fractions."""
    from mmengine.config import Config

    from ..config_utils import check_cfg_options, resolve_config
    study_cfg_path = resolve_config(study_cfg_path)
    if not osp.isfile(study_cfg_path):
        raise FileNotFoundError(f'study config not found: {study_cfg_path}')
    cfg = Config.fromfile(study_cfg_path)
    if 'study' not in cfg:
        raise ValueError(f'{study_cfg_path} has no `study` dict')
    if cfg_options:
        check_cfg_options(cfg, cfg_options)
        for key in cfg_options:
            parts = key.split('.')
            if parts[0] == 'study' and len(parts) > 1 and parts[1] not in STUDY_KEYS:
                raise ValueError(f'--cfg-options: {key!r}: a study has no key {parts[1]!r}' +
                                 did_you_mean(parts[1], STUDY_KEYS))
        cfg.merge_from_dict(cfg_options)
    # 'configs/...' of a study names the package's configs when not found from here
    for spec in [cfg.study.get('finetune')] + list(setting(cfg.study, 'pretrain').values()):
        if isinstance(spec, dict) and isinstance(spec.get('config'), str):
            spec['config'] = resolve_config(spec['config'])
    study = cfg.study.to_dict() if hasattr(cfg.study, 'to_dict') else cfg.study
    check_study(study, study_cfg_path)  # every level, before any work
    return cfg


def run_study(study_cfg_path: str, work_dir: Optional[str] = None,
              log: Callable[[str], None] = print,
              finetune_fn: Callable = finetune_once,
              pretrain_fn: Callable = pretrain,
              cfg_options: Optional[Dict] = None, report_only: bool = False) -> str:
    """Run (or resume) the study described by ``study_cfg_path``; return the results folder.

    ``cfg_options`` (``--cfg-options`` of tools/run_study.py) override config keys, e.g.
    ``{'study.data_root': 'my_data', 'study.classes': ['background', 'nerve']}``.
    """
    cfg = load_study_cfg(study_cfg_path, cfg_options)
    study = copy.deepcopy(cfg.study.to_dict() if hasattr(cfg.study, 'to_dict') else cfg.study)
    work_dir = work_dir or osp.join('work_dirs', 'study',
                                    osp.splitext(osp.basename(study_cfg_path))[0])
    if report_only:
        return report_finished(study, work_dir, log)
    os.makedirs(work_dir, exist_ok=True)
    with WorkDirLock(work_dir), open(osp.join(work_dir, LOG_FILE), 'a',
                                     encoding='utf-8') as log_file:  # one study per work dir

        def tee(line: str) -> None:
            """The study's progress lines, also appended to <work_dir>/study.log."""
            log(line)
            log_file.write(f'{time.strftime("%Y-%m-%d %H:%M:%S")} {line}\n')
            log_file.flush()

        return _run_locked(cfg, study, work_dir, tee, finetune_fn, pretrain_fn)


#: the study's own log in its work dir (each run's full log is in its run folder)
LOG_FILE = 'study.log'


def _run_locked(cfg, study: Dict, work_dir: str, log: Callable[[str], None],
                finetune_fn: Callable, pretrain_fn: Callable) -> str:
    check_fingerprint(work_dir, study)  # before anything is written or reused
    for path in clean_stale_temporaries(work_dir, recursive=True):
        log(f'[study] removed a stale temporary file of a killed run: {path}')
    cfg.dump(osp.join(work_dir, 'study_config.py'))
    check_inits(study)  # before any work: a typo must not wait for the pretraining
    plan_runs(study['inits'], study['fractions'], study['seeds'])
    data = ensure_data(study, log, work_dir)
    settings = study  # what the fingerprint records: the user's settings
    # what the steps below run on: for a folder study, its view in the work dir and the
    # fine-tuning datasets and heads set from the classes (the fingerprint keeps the user's
    # settings, above)
    study = dict(study, data_root=data['data_root'])
    if study.get('classes'):
        study['finetune'] = dict(study['finetune'], classes=list(study['classes']),
                                 img_suffix=data.get('img_suffix'))

    backbones: Dict[str, Optional[str]] = {}
    pretrainings: Dict[str, Pretrained] = {}
    for init in study['inits']:
        if init == 'random':
            backbones[init] = None
        elif init in setting(study, 'pretrain'):
            rec = _call_pretrain(pretrain_fn, init, study, work_dir, log)
            backbones[init] = rec.backbone
            pretrainings[init] = rec
            if rec.start_arm and setting(study, 'same_start'):
                backbones[rec.start_arm] = rec.start_backbone
        elif init in setting(study, 'extra_inits'):
            backbones[init] = study['extra_inits'][init]
            if not osp.isfile(backbones[init]):
                raise FileNotFoundError(f'backbone checkpoint of {init!r} not found: '
                                        f'{backbones[init]}')
    record_fingerprint(work_dir, settings)  # from here on, finished work depends on the settings
    inits = _with_start_arms(study['inits'], pretrainings, setting(study, 'same_start'))
    keys = plan_runs(inits, study['fractions'], study['seeds'])

    results_csv = osp.join(work_dir, 'results.csv')
    rows = read_results(results_csv)
    digest = settings_digest(settings)
    check_run_digests(rows, digest, results_csv)
    done = {(r['init'], float(r['fraction']), int(r['seed'])) for r in rows
            if r.get('mIoU') is not None}  # a row without its metric is not a finished run
    if len(done) < len(rows):
        log(f'[study] {len(rows) - len(done)} row(s) of {results_csv} have no mIoU: '
            'those runs are run again')
    todo = [k for k in keys if (k.init, k.fraction, k.seed) not in done]
    jobs = min(setting(study, 'jobs'), max(len(todo), 1))
    log(f'[study] {len(keys)} runs planned, {len(keys) - len(todo)} already finished, '
        f'{len(todo)} to go ({work_dir})' +
        (f'; {jobs} at a time, {_worker_threads(jobs)} thread(s) each' if jobs > 1 else ''))
    progress = Progress(len(keys), len(keys) - len(todo), log, jobs=jobs)

    def start(key: RunKey) -> tuple:
        """The run's folder, emptied of a half-written run: the arguments of its fine-tuning."""
        run_dir = osp.join(work_dir, 'runs', key.init, f'frac{key.fraction:g}_seed{key.seed}')
        if osp.isdir(run_dir):
            if (key.init, key.fraction, key.seed) in done:  # never a finished run's folder
                raise RuntimeError(f'{run_dir} belongs to a finished run of {results_csv}; '
                                   'not deleting it (is a run listed twice?)')
            log(f'[study] {key.name}: restarting a half-written run')
            shutil.rmtree(run_dir)
        progress.begin(key)
        return key, study['finetune'], backbones[key.init], run_dir, study['data_root']

    def finish(key: RunKey, row: Dict, seconds: float) -> None:
        row['settings'] = digest  # what produced this run (checked on every resume)
        append_row(results_csv, row)
        done.add((key.init, key.fraction, key.seed))
        progress.end(seconds)
        log(f'[study] {key.name}: mIoU {row.get("mIoU", float("nan")):.2f} '
            f'({format_duration(seconds)})')

    if jobs > 1:
        _run_in_workers(todo, jobs, finetune_fn, start, finish, log)
    else:
        for key in todo:
            args = start(key)
            t0 = time.time()
            row = finetune_fn(*args)
            finish(key, row, time.time() - t0)
    extra = [tsne_figure(study, backbones, inits, work_dir, log)] if study.get('tsne') else []
    _report(study, study['data_root'], work_dir, {n: r.report_entry()
                                                  for n, r in pretrainings.items()}, log, extra)
    return work_dir


def _worker_threads(jobs: int) -> int:
    """Torch threads of each of ``jobs`` worker processes: this process's share."""
    import torch
    return max(1, torch.get_num_threads() // jobs)


def _init_worker(threads: int) -> None:
    """A worker process's set-up: its share of the threads (set before any torch work)."""
    import torch
    torch.set_num_threads(threads)


def _timed(finetune_fn: Callable, *args) -> tuple:
    """One fine-tuning run in a worker: its row and its seconds."""
    t0 = time.time()
    row = finetune_fn(*args)
    return row, time.time() - t0


def _run_in_workers(todo: Sequence[RunKey], jobs: int, finetune_fn: Callable,
                    start: Callable, finish: Callable, log: Callable[[str], None]) -> None:
    """Fine-tune ``todo`` in ``jobs`` spawned worker processes, each on its share of the
    threads: small CPU models use two threads far below twice as well as one, so two runs at
    once on 2 cores finish sooner than two in turn (docs/ENVIRONMENT.md has the figures).

    Every finished row is recorded by this process as it arrives, in the order runs finish.
    When a run fails, no new run starts, the runs already under way are finished and
    recorded, and the first error is raised: a resume then has only the failed run to redo.
    """
    import multiprocessing
    import pickle
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    try:
        pickle.dumps(finetune_fn)
    except Exception as exc:  # a closure or lambda cannot reach a worker process
        raise ValueError(f'study.jobs={jobs} runs fine-tuning in worker processes, which '
                         f'need a module-level finetune_fn; {finetune_fn!r} cannot be '
                         f'pickled ({exc}); set study.jobs=1') from None
    queue = list(todo)
    error: Optional[BaseException] = None
    with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context('spawn'),
                             initializer=_init_worker,
                             initargs=(_worker_threads(jobs), )) as pool:
        running: Dict = {}
        while running or (queue and error is None):
            while queue and error is None and len(running) < jobs:
                key = queue.pop(0)
                running[pool.submit(_timed, finetune_fn, *start(key))] = key
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                key = running.pop(future)
                try:
                    row, seconds = future.result()
                except Exception as exc:
                    if error is None:
                        error = exc
                        log(f'[study] {key.name} failed: {type(exc).__name__}: {exc}; '
                            f'finishing the {len(running)} run(s) under way, starting no '
                            'other')
                    continue
                finish(key, row, seconds)
    if error is not None:
        raise error


def _report(study: Dict, data_root: str, work_dir: str, pretrainings: Dict,
            log: Callable[[str], None], extra: Sequence[str] = ()) -> None:
    """Write results.md and the plots from <work_dir>/results.csv, print the report and the
    paths (a finished study and ``--report-only`` alike)."""
    results_csv = osp.join(work_dir, 'results.csv')
    paths = list(write_report(results_csv, work_dir, baseline=setting(study, 'baseline'),
                              pretrainings=pretrainings, design=split_sizes(data_root)))
    paths += list(extra)
    with open(paths[0], encoding='utf-8') as f:
        log(f.read())
    log(f'[study] results: {results_csv}')
    for p in paths:
        log(f'[study] report: {p}')


def report_finished(study: Dict, work_dir: str, log: Callable[[str], None] = print) -> str:
    """Write the report from the runs finished so far (``--report-only``): an interrupted
    study keeps what it measured. Trains nothing; the pretrainings' records come from
    ``<work_dir>/pretrain/<name>_record.json``."""
    import json
    results_csv = osp.join(work_dir, 'results.csv')
    if not osp.isfile(results_csv):
        raise FileNotFoundError(f'{results_csv} does not exist: no run of this study has '
                                'finished yet, so there is nothing to report')
    check_fingerprint(work_dir, study)
    arms = {r['init'] for r in read_results(results_csv)}
    pretrainings = {}
    for name in setting(study, 'pretrain'):
        path = osp.join(work_dir, 'pretrain', f'{name}_record.json')
        rec = {}
        if osp.isfile(path):
            with open(path, encoding='utf-8') as f:
                rec = json.load(f)
        pretrainings[name] = dict(
            start_arm=name + START_SUFFIX if name + START_SUFFIX in arms else None,
            weight_change=rec.get('weight_change'), probe=rec.get('probe') or [])
    data_root = osp.join(work_dir, 'data') if study.get('folder') is not None \
        else study['data_root']
    _report(study, data_root, work_dir, pretrainings, log)
    return work_dir


def split_sizes(data_root: str) -> Dict[str, Dict[str, int]]:
    """Images and patients (the file-name rule of :func:`mmssl_us.data.splits.patient_id`) of
    each labelled split under ``<data_root>/images``, for the report's design section."""
    from ..data.media import IMAGE_SUFFIXES
    from ..data.splits import patient_id
    out: Dict[str, Dict[str, int]] = {}
    for split in ('train', 'val', 'test'):
        folder = osp.join(data_root, 'images', split)
        if not osp.isdir(folder):
            continue
        names = [n for n in os.listdir(folder) if osp.splitext(n)[1].lower() in IMAGE_SUFFIXES]
        out[split] = dict(images=len(names),
                          patients=len({patient_id(n, 'prefix') for n in names}))
    return out


def tsne_figure(study: Dict, backbones: Dict[str, Optional[str]], inits: Sequence[str],
                work_dir: str, log: Callable[[str], None]) -> str:
    """t-SNE of the initial backbones (pretrained vs random) on the study's test split."""
    from mmengine.config import Config

    spec, ft = study['tsne'], study['finetune']
    out = osp.join(work_dir, 'tsne_backbones.png')
    if osp.isfile(out):
        return out
    from .tsne import run_tsne
    cfg = Config.fromfile(ft['config'])
    cfg.merge_from_dict(finetune_options(cfg, ft, study['data_root']))
    inits = list(inits)
    log('[study] t-SNE of the initial backbones: ' + out)
    run_tsne(cfg, [backbones[i] or 'none' for i in inits], inits, out,
             split=str(spec.get('split', 'test')), max_images=int(spec.get('max_images', 16)),
             color=str(spec.get('color', 'class')),
             points_per_image=int(spec.get('points_per_image', 32)), log=log)
    return out
