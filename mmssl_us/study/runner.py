"""The label-efficiency study: pretrain once, fine-tune label fraction x initialisation x seed,
evaluate on the fixed test split, and write results.csv, results.md and plots.

A study is an mmengine config holding one ``study`` dict (see ``configs/study/``)::

    study = dict(
        data_root='data/knee',            # the knee layout of docs/CONTRACTS.md
        synthetic=dict(patients=..., ...),  # optional: generate the data when it is missing
        pretrain=dict(densecl=dict(config=..., cfg_options=..., checkpoint=None)),
        extra_inits=dict(simclr='path/backbone.pth'),  # other pretrainings, already converted
        finetune=dict(config=..., shrink=dict(crop_size=..., max_iters=..., depth=...),
                      cfg_options=...),  # shrink: mmssl_us.seg.config_utils.seg_cfg_options
        inits=['densecl', 'random'], fractions=[0.05, 1.0], seeds=[0, 1, 2],
        baseline='random')

Pretraining runs as a subprocess of ``tools/train.py`` (so an interrupted pretraining resumes with
``--resume auto``) and its checkpoint is converted with ``tools/model_converters/pretrain2seg.py``.
Fine-tuning runs in this process, one mmengine Runner per run (the host is imported lazily).
A run counts as finished once its row is in ``results.csv``; a run folder without a row is a
half-written run and is started again from scratch.
"""
from __future__ import annotations

import copy
import json
import os
import os.path as osp
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence

from mmengine.hooks import Hook

from mmssl_us.launch import format_cfg_options

from .report import write_report
from .results import append_row, read_results

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOLS = osp.join(ROOT, 'tools')

__all__ = ['RunKey', 'plan_runs', 'run_study', 'format_duration', 'Progress']


@dataclass(frozen=True)
class RunKey:
    init: str
    fraction: float
    seed: int

    @property
    def name(self) -> str:
        return f'{self.init}/frac{self.fraction:g}_seed{self.seed}'


def plan_runs(inits: Sequence[str], fractions: Sequence[float],
              seeds: Sequence[int]) -> List[RunKey]:
    """All runs of the study, smallest fraction first (the quick answers come first)."""
    if not inits or not fractions or not seeds:
        raise ValueError(f'a study needs inits, fractions and seeds; got inits={list(inits)}, '
                         f'fractions={list(fractions)}, seeds={list(seeds)}')
    for f in fractions:
        if not 0 < float(f) <= 1:
            raise ValueError(f'label fraction must be in (0, 1], got {f}')
    if len(set(inits)) != len(inits):
        raise ValueError(f'duplicate initialisations in {list(inits)}')
    return [RunKey(i, float(f), int(s)) for f in sorted(fractions) for s in seeds for i in inits]


def format_duration(seconds: float) -> str:
    seconds = int(round(seconds))
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f'{h}h{m:02d}m' if h else (f'{m}m{s:02d}s' if m else f'{s}s')


class Progress:
    """'run i of n' with an ETA from the mean duration of the runs done in this session."""

    def __init__(self, total: int, done: int, printer: Callable[[str], None] = print):
        self.total, self.done, self.printer = total, done, printer
        self.durations: List[float] = []
        self.start = time.time()

    def begin(self, key: RunKey) -> None:
        remaining = self.total - self.done
        eta = (f'ETA {format_duration(remaining * sum(self.durations) / len(self.durations))}'
               if self.durations else 'ETA after the first run')
        self.printer(f'[study] run {self.done + 1}/{self.total}: {key.name} | elapsed '
                     f'{format_duration(time.time() - self.start)} | {eta}')

    def end(self, seconds: float) -> None:
        self.done += 1
        self.durations.append(seconds)


def _python() -> str:
    return sys.executable


def _cfg_options_args(options: Optional[Dict]) -> List[str]:
    return ['--cfg-options', *format_cfg_options(options)] if options else []


def ensure_data(study: Dict, log: Callable[[str], None]) -> None:
    """Generate the synthetic default data when the study asks for it and it is missing."""
    root = study['data_root']
    syn = study.get('synthetic')
    if syn is None:
        if not osp.isdir(root):
            raise FileNotFoundError(
                f'study data_root {root!r} does not exist. Put your data there in the knee '
                'layout (docs/CONTRACTS.md) or generate the synthetic default with '
                f'`python tools/generate_synthetic.py --out {root}`')
        return
    cmd = [_python(), osp.join(TOOLS, 'generate_synthetic.py'), '--out', root]
    for k, v in syn.items():
        cmd += [f'--{k}', str(v)]
    log('[study] data: ' + ' '.join(cmd[1:]))
    subprocess.run(cmd, check=True)


def pretrain(name: str, spec: Dict, study_dir: str, log: Callable[[str], None]) -> str:
    """Pretrain (or reuse) and convert; return the backbone checkpoint for mmseg."""
    if spec.get('checkpoint'):
        ckpt = spec['checkpoint']
        if not osp.isfile(ckpt):
            raise FileNotFoundError(f'pretrained checkpoint for {name!r} not found: {ckpt}')
    else:
        work_dir = osp.join(study_dir, 'pretrain', name)
        ckpt = osp.join(work_dir, 'final.pth')
        if not osp.isfile(ckpt):
            cmd = [_python(), osp.join(TOOLS, 'train.py'), spec['config'], '--work-dir',
                   work_dir, '--resume', 'auto'] + _cfg_options_args(spec.get('cfg_options'))
            log(f'[study] pretraining {name}: ' + ' '.join(cmd[1:]))
            t0 = time.time()
            subprocess.run(cmd, check=True)
            with open(osp.join(work_dir, 'last_checkpoint'), encoding='utf-8') as f:
                last = f.read().strip()
            shutil.copyfile(last, ckpt + '.tmp')
            os.replace(ckpt + '.tmp', ckpt)
            log(f'[study] pretraining {name} took {format_duration(time.time() - t0)}')
    backbone = osp.join(study_dir, 'pretrain', f'{name}_backbone.pth')
    if not osp.isfile(backbone) or osp.getmtime(backbone) < osp.getmtime(ckpt):
        cmd = [_python(), osp.join(TOOLS, 'model_converters', 'pretrain2seg.py'), ckpt, backbone,
               '--verify']
        subprocess.run(cmd, check=True)
    return backbone


class CurveHook(Hook):
    """Collects (iteration, val mIoU) after every validation of a fine-tuning run."""

    priority = 'LOW'

    def __init__(self) -> None:
        self.curve: List[List[float]] = []

    def after_val_epoch(self, runner, metrics: Optional[Dict[str, float]] = None) -> None:
        if metrics and 'mIoU' in metrics:
            self.curve.append([int(runner.iter), float(metrics['mIoU'])])


def _finetune_options(cfg, spec: Dict, data_root: str) -> Dict:
    """The fine-tuning config's overrides common to every run: the study's shrink settings
    (mmssl_us.seg.config_utils.seg_cfg_options), its cfg_options, and the data root."""
    from mmssl_us.seg.config_utils import seg_cfg_options
    options = seg_cfg_options(cfg, **(spec.get('shrink') or {}))
    options.update(spec.get('cfg_options') or {})
    options['data_root'] = data_root
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        options[f'{loader}.dataset.data_root'] = data_root
    return options


def finetune_once(key: RunKey, spec: Dict, backbone: Optional[str], run_dir: str,
                  data_root: str) -> Dict:
    """Train one fine-tuning run in this process and evaluate it on the test split."""
    from mmengine.config import Config
    from mmengine.runner import Runner

    import mmssl_us.seg  # noqa: F401  (registers datasets, metrics, VerifiedPretrained)
    cfg = Config.fromfile(spec['config'])
    options = _finetune_options(cfg, spec, data_root)
    options.update({
        'train_dataloader.dataset.label_fraction': key.fraction,
        'train_dataloader.dataset.fraction_seed': key.seed,
        'randomness.seed': key.seed,
        'work_dir': run_dir,
        'experiment_name': key.name.replace('/', '_'),
    })
    if backbone is None:
        options['model.backbone.init_cfg'] = None
        options['model.pretrained'] = None
    else:
        options['model.backbone.init_cfg'] = dict(type='VerifiedPretrained', checkpoint=backbone)
    cfg.merge_from_dict(options)
    runner = Runner.from_cfg(cfg)
    curve = CurveHook()
    runner.register_hook(curve, priority='LOW')
    t0 = time.time()
    runner.train()
    metrics = runner.test()
    row = dict(init=key.init, fraction=key.fraction, seed=key.seed,
               curve=json.dumps(curve.curve), work_dir=run_dir,
               seconds=round(time.time() - t0, 1))
    for k, v in metrics.items():
        try:
            row[k] = float(v)
        except (TypeError, ValueError):
            continue
    return row


def run_study(study_cfg_path: str, work_dir: Optional[str] = None,
              log: Callable[[str], None] = print,
              finetune_fn: Callable = finetune_once,
              pretrain_fn: Callable = pretrain) -> str:
    """Run (or resume) the study described by ``study_cfg_path``; return the results folder."""
    from mmengine.config import Config
    cfg = Config.fromfile(study_cfg_path)
    if 'study' not in cfg:
        raise ValueError(f'{study_cfg_path} has no `study` dict')
    study = copy.deepcopy(cfg.study.to_dict() if hasattr(cfg.study, 'to_dict') else cfg.study)
    work_dir = work_dir or osp.join('work_dirs', 'study',
                                    osp.splitext(osp.basename(study_cfg_path))[0])
    os.makedirs(work_dir, exist_ok=True)
    cfg.dump(osp.join(work_dir, 'study_config.py'))
    keys = plan_runs(study['inits'], study['fractions'], study['seeds'])
    ensure_data(study, log)

    backbones: Dict[str, Optional[str]] = {}
    for init in study['inits']:
        if init == 'random':
            backbones[init] = None
        elif init in study.get('pretrain', {}):
            backbones[init] = pretrain_fn(init, study['pretrain'][init], work_dir, log)
        elif init in study.get('extra_inits', {}):
            backbones[init] = study['extra_inits'][init]
            if not osp.isfile(backbones[init]):
                raise FileNotFoundError(f'backbone checkpoint of {init!r} not found: '
                                        f'{backbones[init]}')
        else:
            raise ValueError(f'initialisation {init!r} is neither random, nor in study.pretrain, '
                             'nor in study.extra_inits')

    results_csv = osp.join(work_dir, 'results.csv')
    done = {(r['init'], float(r['fraction']), int(r['seed'])) for r in read_results(results_csv)}
    todo = [k for k in keys if (k.init, k.fraction, k.seed) not in done]
    log(f'[study] {len(keys)} runs planned, {len(keys) - len(todo)} already finished, '
        f'{len(todo)} to go ({work_dir})')
    progress = Progress(len(keys), len(keys) - len(todo), log)
    for key in todo:
        run_dir = osp.join(work_dir, 'runs', key.init, f'frac{key.fraction:g}_seed{key.seed}')
        if osp.isdir(run_dir):
            log(f'[study] {key.name}: restarting a half-written run')
            shutil.rmtree(run_dir)
        progress.begin(key)
        t0 = time.time()
        row = finetune_fn(key, study['finetune'], backbones[key.init], run_dir,
                          study['data_root'])
        append_row(results_csv, row)
        progress.end(time.time() - t0)
        log(f'[study] {key.name}: mIoU {row.get("mIoU", float("nan")):.2f} '
            f'({format_duration(time.time() - t0)})')
    paths = list(write_report(results_csv, work_dir, baseline=study.get('baseline', 'random')))
    if study.get('tsne'):
        paths.append(tsne_figure(study, backbones, work_dir, log))
    with open(paths[0], encoding='utf-8') as f:
        log(f.read())
    log(f'[study] results: {results_csv}')
    for p in paths:
        log(f'[study] report: {p}')
    return work_dir


def tsne_figure(study: Dict, backbones: Dict[str, Optional[str]], work_dir: str,
                log: Callable[[str], None]) -> str:
    """t-SNE of the initial backbones (pretrained vs random) on the study's test split."""
    from mmengine.config import Config

    spec, ft = study['tsne'], study['finetune']
    out = osp.join(work_dir, 'tsne_backbones.png')
    if osp.isfile(out):
        return out
    options = _finetune_options(Config.fromfile(ft['config']), ft, study['data_root'])
    inits = list(study['inits'])
    cmd = [_python(), osp.join(TOOLS, 'analysis', 'tsne.py'), ft['config'],
           *[backbones[i] or 'none' for i in inits], '--labels', *inits, '--out', out,
           '--split', str(spec.get('split', 'test')),
           '--max-images', str(spec.get('max_images', 16)),
           '--points-per-image', str(spec.get('points_per_image', 32)),
           '--color', str(spec.get('color', 'class')),
           '--cfg-options', *format_cfg_options(options)]
    log('[study] t-SNE of the initial backbones: ' + out)
    subprocess.run(cmd, check=True)
    return out
