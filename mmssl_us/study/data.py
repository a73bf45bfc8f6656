"""A study's data step, before any training: make or convert the labelled data when it is
missing, and assemble the pretraining pool.

``study`` keys read here (all optional but ``data_root``)::

    data_root='data/hc18'
    synthetic=dict(patients=30, ...)          # generate the synthetic knee data (idempotent);
                                              # with mode='echo', out=SRC: EchoNet-format clips
                                              # in SRC, then `convert` (dataset='echonet')
    convert=dict(dataset='hc18', src='...',   # convert a public dataset into data_root once
                 seed=0, val=0.1, test=0.2)
    pool=dict(splits=['train'], extra=[...])  # <data_root>/unlabelled from the training images
                                              # (never val/test) and extra unlabelled folders;
                                              # echonet=SRC: the between-traced frames of the
                                              # TRAIN videos of an EchoNet folder, as clips
    folder=dict(val=0.15, seed=0,             # data_root is the user's own folder of images and
                mask_suffix='.png')           # masks: the study runs on a linked view of it in
                                              # <work_dir>/data (mmssl_us.data.layout), val
    classes=['background', ...]               # carved by patient when absent; the classes set
                                              # the fine-tuning datasets and heads
    leakage='stop'                            # the leakage report runs before any training:
                                              # 'stop' on cross-split leakage, 'warn', 'off'
"""
from __future__ import annotations

import os.path as osp
from typing import Callable, Dict, Optional

from .spec import setting

__all__ = ['ensure_data', 'check_folder_study', 'check_data_leakage', 'CONVERTERS']

#: dataset name -> the name of its converter function in mmssl_us.data.converters
CONVERTERS = {'hc18': 'convert_hc18', 'camus': 'convert_camus', 'echonet': 'convert_echonet'}


def _convert(root: str, spec: Dict, log: Callable[[str], None]) -> None:
    spec = dict(spec)
    name = spec.pop('dataset', None)
    if name not in CONVERTERS:
        raise ValueError(f'study.convert.dataset must be one of {sorted(CONVERTERS)}, '
                         f'got {name!r}')
    src = spec.pop('src', None)
    if not src or not osp.isdir(src):
        raise FileNotFoundError(f'study.convert.src: {name} source folder not found: {src!r}')
    from ..data import converters
    # the converter reuses a conversion made with the same settings and refuses other ones
    log(f'[study] data: {name} from {src} into {root}')
    summary = getattr(converters, CONVERTERS[name])(src, root, **spec)
    log(f'[study] data: {summary.get("written", summary)}')


def check_folder_study(study: Dict) -> None:
    """A folder study names its data folder and its classes (checked before any work)."""
    if not study.get('data_root'):
        raise ValueError('study.data_root is not set: pass your data folder, e.g. '
                         '--cfg-options study.data_root=/path/to/data')
    classes = study.get('classes')
    if study.get('folder') is not None:
        if (not isinstance(classes, (list, tuple)) or len(classes) < 2
                or not all(isinstance(c, str) and c for c in classes)):
            raise ValueError('study.classes must list at least two class names, background '
                             'first (label i is classes[i]), e.g. --cfg-options '
                             '"study.classes=[\'background\',\'nerve\',\'vessel\']"; got '
                             f'{classes!r}')
        if len(set(classes)) != len(classes):
            raise ValueError(f'study.classes has repeated names: {list(classes)}')


def ensure_data(study: Dict, log: Callable[[str], None] = print,
                work_dir: Optional[str] = None) -> Dict:
    """Generate, convert, lay out and pool the study's data as its config asks (module docs).

    Returns:
        dict: What the later steps need: ``data_root`` (the user's folder, or for a folder
        study its view in ``<work_dir>/data``) and, for a folder study, ``img_suffix``.
    """
    check_folder_study(study)
    root = study['data_root']
    out: Dict = dict(data_root=root)
    if study.get('folder') is not None:
        if work_dir is None:
            raise ValueError('a folder study needs its work dir (the data view is made there)')
        from ..data.layout import prepare_folder
        view = osp.join(work_dir, 'data')
        record = prepare_folder(root, view, log=log, **dict(study['folder']))
        out.update(data_root=view, img_suffix=record['img_suffix'])
        root = view
    elif study.get('synthetic') is not None:
        from ..synthetic.cli import main as generate
        synthetic = dict(study['synthetic'])
        # synthetic.out: generate a source (EchoNet-format clips, mode='echo') for convert
        args = ['--out', synthetic.pop('out', root)]
        for k, v in synthetic.items():  # a list is a multi-value flag (split)
            args += [f'--{k}'] + ([str(x) for x in v] if isinstance(v, (list, tuple))
                                  else [str(v)])
        log('[study] data: python -m mmssl_us.synthetic.cli ' + ' '.join(args))
        if generate(args) != 0:
            raise RuntimeError(f'generating the synthetic data in {args[1]} failed (see above)')
        if study.get('convert') is not None:
            _convert(root, study['convert'], log)
    elif study.get('convert') is not None:
        _convert(root, study['convert'], log)
    elif not osp.isdir(root):
        raise FileNotFoundError(
            f'study data_root {root!r} does not exist. Put your data there in the knee '
            'layout (docs/CONTRACTS.md) or generate the synthetic default with '
            f'`python tools/generate_synthetic.py --out {root}`')
    if study.get('pool') is not None:
        from ..data.pool import build_pool
        pool = dict(study['pool'])
        counts = build_pool(root, splits=pool.get('splits', ('train',)),
                            extra=pool.get('extra', ()), folder=pool.get('folder', 'unlabelled'),
                            echonet=pool.get('echonet'))
        log(f'[study] pretraining pool {osp.join(root, pool.get("folder", "unlabelled"))}: '
            + (', '.join(f'{n} {"frames" if "echonet" in s else "images"} from {s}'
                         for s, n in counts.items()) or 'nothing added'))
    check_data_leakage(root, study, work_dir, log)
    return out


def check_data_leakage(root: str, study: Dict, work_dir: Optional[str],
                       log: Callable[[str], None] = print) -> None:
    """Run the leakage report (:func:`mmssl_us.data.leakage.find_leakage`) on the study's data
    before any training; stop on cross-split leakage unless ``study.leakage == 'warn'``
    (``'off'`` skips the check); ``study.leakage_near_bits`` sets its near-duplicate
    threshold. The report goes to ``<work_dir>/leakage.json``."""
    mode = setting(study, 'leakage')
    if mode not in ('stop', 'warn', 'off'):
        raise ValueError(f"study.leakage must be 'stop', 'warn' or 'off', got {mode!r}")
    if mode == 'off':
        log('[study] leakage check: off (study.leakage)')
        return
    splits = [s for s in ('train', 'val', 'test') if osp.isdir(osp.join(root, 'images', s))]
    pool_name = (study.get('pool') or {}).get('folder', 'unlabelled')
    pool = pool_name if osp.isdir(osp.join(root, pool_name)) else None
    if len(splits) + (pool is not None) < 2:
        log(f'[study] leakage check: skipped ({root} has fewer than two of images/train, '
            f'images/val, images/test, {pool_name}/)')
        return
    import json

    from ..data.leakage import NEAR_DUPLICATE_BITS, find_leakage
    from ..fileio import atomic_write
    near = setting(study, 'leakage_near_bits')
    report = find_leakage(root, splits=splits, pool=pool,
                          near_bits=NEAR_DUPLICATE_BITS if near is None else near)
    if work_dir is not None:
        atomic_write(osp.join(work_dir, 'leakage.json'), json.dumps(report.to_dict(), indent=1))
    log(report.summary(max_files=3))
    if report.cross_split:
        if mode == 'warn':
            log(f'[study] WARNING: {len(report.cross_split)} cross-split leakage finding(s) '
                "above; going on because study.leakage='warn'")
        else:
            raise ValueError(f'{len(report.cross_split)} cross-split leakage finding(s) in '
                             f'{root} (listed above; all in leakage.json): remove them, or set '
                             "study.leakage='warn' to go on anyway")
