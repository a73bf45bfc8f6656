"""A study's data step, before any training: make or convert the labelled data when it is
missing, and assemble the pretraining pool.

``study`` keys read here (all optional but ``data_root``)::

    data_root='data/hc18'
    synthetic=dict(patients=30, ...)          # generate the synthetic knee data (idempotent)
    convert=dict(dataset='hc18', src='...',   # convert a public dataset into data_root once
                 seed=0, val=0.1, test=0.2)
    pool=dict(splits=['train'], extra=[...])  # <data_root>/unlabelled from the training images
                                              # (never val/test) and extra unlabelled folders
"""
from __future__ import annotations

import os.path as osp
from typing import Callable, Dict

__all__ = ['ensure_data', 'CONVERTERS']

#: dataset name -> (module, function) of a converter in mmssl_us.data.converters
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
    from mmssl_us.data import converters
    # the converter reuses a conversion made with the same settings and refuses other ones
    log(f'[study] data: {name} from {src} into {root}')
    summary = getattr(converters, CONVERTERS[name])(src, root, **spec)
    log(f'[study] data: {summary.get("written", summary)}')


def ensure_data(study: Dict, log: Callable[[str], None] = print) -> None:
    """Generate, convert and pool the study's data as its config asks (see module docs)."""
    root = study['data_root']
    if study.get('synthetic') is not None:
        from mmssl_us.synthetic.cli import main as generate
        args = ['--out', root]
        for k, v in study['synthetic'].items():
            args += [f'--{k}', str(v)]
        log('[study] data: python -m mmssl_us.synthetic.cli ' + ' '.join(args))
        if generate(args) != 0:
            raise RuntimeError(f'generating the synthetic data in {root} failed (see above)')
    elif study.get('convert') is not None:
        _convert(root, study['convert'], log)
    elif not osp.isdir(root):
        raise FileNotFoundError(
            f'study data_root {root!r} does not exist. Put your data there in the knee '
            'layout (docs/CONTRACTS.md) or generate the synthetic default with '
            f'`python tools/generate_synthetic.py --out {root}`')
    if study.get('pool') is not None:
        from mmssl_us.data.pool import build_pool
        pool = dict(study['pool'])
        counts = build_pool(root, splits=pool.get('splits', ('train',)),
                            extra=pool.get('extra', ()), folder=pool.get('folder', 'unlabelled'))
        log(f'[study] pretraining pool {osp.join(root, pool.get("folder", "unlabelled"))}: '
            + ', '.join(f'{n} images from {s}' for s, n in counts.items()))
