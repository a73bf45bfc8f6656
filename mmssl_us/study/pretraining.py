"""A study's pretraining step: run (or resume) one pretraining, convert and verify its backbone
and the backbone it started from, and record what it did.

The record (:class:`Pretrained`) carries what the report needs to tell what pretraining itself
added: the converted backbone, the same-start backbone (the weights before the first step,
written by ``SaveStartWeightsHook``; fine-tuned as the arm ``<name>_start``), how far the weights
moved per stage (:mod:`mmssl_us.study.weights`), and the online probe's history
(``DenseProbeHook``, added from the study's ``probe`` settings).

The pretraining config that runs is written to ``<study>/pretrain/<name>_config.py`` (shrink,
data root, cfg_options, the two hooks), and started as a fresh process,
``python -m mmssl_us.launch train`` with ``--resume auto``, so an interrupted study resumes it;
that process trains through the package's one driver (:func:`mmssl_us.train.train`), as
``tools/train.py`` and the study's fine-tuning runs do.
"""
from __future__ import annotations

import json
import os
import os.path as osp
import sys
import time
from dataclasses import asdict, dataclass, field
from typing import Callable, Dict, List, Optional

from ..distributed import child_env
from ..fileio import atomic_copy, atomic_write
from ..process import run_child
from ..transfer import convert_checkpoint, resolve_source

from .fingerprint import check_record, config_digest

__all__ = ['Pretrained', 'pretrain', 'pretrain_config', 'START_SUFFIX']

#: the same-start arm of pretraining ``name`` is called ``name + START_SUFFIX``
START_SUFFIX = '_start'
_START_FILE = 'start_weights.pth'


@dataclass
class Pretrained:
    """What one pretraining produced, for the fine-tuning arms and the report."""
    name: str
    backbone: str
    start_backbone: Optional[str] = None
    weight_change: Optional[Dict[str, Dict[str, float]]] = None
    probe: List[dict] = field(default_factory=list)
    seconds: Optional[float] = None

    @property
    def start_arm(self) -> Optional[str]:
        return self.name + START_SUFFIX if self.start_backbone else None

    def report_entry(self) -> Dict:
        return dict(start_arm=self.start_arm, weight_change=self.weight_change,
                    probe=self.probe)


def pretrain_config(name: str, spec: Dict, study: Dict, study_dir: str) -> str:
    """Write the pretraining config that will run; return its path."""
    from mmengine.config import Config

    from ..pretrain.config_utils import pretrain_options
    cfg = Config.fromfile(spec['config'], import_custom_modules=False)
    cfg.merge_from_dict(pretrain_options(spec, data_root=study['data_root']))
    hooks = [h for h in cfg.get('custom_hooks', [])
             if h.get('type') not in ('SaveStartWeightsHook', 'DenseProbeHook')]
    hooks.append(dict(type='SaveStartWeightsHook', filename=_START_FILE))
    probe = spec.get('probe', study.get('probe'))
    if probe:
        probe = dict(probe)
        if study.get('classes'):
            probe.setdefault('num_classes', len(study['classes']))
        hooks.append(dict(type='DenseProbeHook', data_root=study['data_root'], **probe))
    cfg.custom_hooks = hooks
    path = osp.join(study_dir, 'pretrain', f'{name}_config.py')
    atomic_write(path, cfg.pretty_text)
    return path


def _convert(src: str, dst: str, log: Callable[[str], None], adapter: str = 'resnet') -> str:
    if not osp.isfile(dst) or osp.getmtime(dst) < osp.getmtime(src):
        _, meta = convert_checkpoint(src, dst, adapter, verify=True)
        log(f'[study] backbone {dst}; verified: {meta["verified"]}')
    return dst


def pretrain(name: str, spec: Dict, study_dir: str, log: Callable[[str], None] = print,
             study: Optional[Dict] = None) -> Pretrained:
    """Pretrain (or reuse) ``name`` of the study, convert its backbones, record what it did.

    Args:
        name (str): The pretraining's name (its arm in the study).
        spec (dict): ``study.pretrain[name]``: ``config``, ``shrink``, ``cfg_options``,
            ``probe``, ``adapter`` (the transfer adapter, default 'resnet'; 'unet' for a
            ``UNetEncoder`` pretraining); or ``checkpoint`` (and optionally ``start_checkpoint``) of a pretraining
            made elsewhere.
        study_dir (str): The study's work dir.
        log (Callable): Printer. Defaults to print.
        study (dict, optional): The whole study dict (data root, probe settings). Defaults to
            None (then only ``checkpoint`` specs work).
    """
    out_dir = osp.join(study_dir, 'pretrain')
    os.makedirs(out_dir, exist_ok=True)
    seconds, probe, start = None, [], spec.get('start_checkpoint')
    if spec.get('checkpoint'):
        ckpt = spec['checkpoint']
        if not osp.isfile(ckpt):
            raise FileNotFoundError(f'pretrained checkpoint for {name!r} not found: {ckpt}')
    else:
        if study is None:
            raise ValueError(f'pretraining {name!r} needs the study dict (data root)')
        work_dir = osp.join(out_dir, name)
        ckpt = osp.join(work_dir, 'final.pth')
        # a pretraining (finished or half-done) is reused only under the settings that made it
        os.makedirs(work_dir, exist_ok=True)
        check_record(osp.join(work_dir, 'settings.json'),
                     dict(spec=spec, config_digest=config_digest(spec['config']),
                          data_root=study['data_root'],
                          probe=spec.get('probe', study.get('probe')),
                          classes=study.get('classes')),
                     f'the pretraining {name!r} in {work_dir}')
        if not osp.isfile(ckpt):
            config = pretrain_config(name, spec, study, study_dir)
            cmd = [sys.executable, '-m', 'mmssl_us.launch', 'train', config, '--work-dir',
                   work_dir, '--resume', 'auto']
            log(f'[study] pretraining {name}: ' + ' '.join(cmd[1:]))
            t0 = time.time()
            run_child(cmd, env=child_env())
            atomic_copy(resolve_source(work_dir), ckpt)
            seconds = round(time.time() - t0, 1)
            log(f'[study] pretraining {name} took {seconds:.0f} s')
        start = osp.join(work_dir, _START_FILE)
        if not osp.isfile(start):
            log(f'[study] {name}: no {_START_FILE} in {work_dir}: no same-start control')
            start = None
        if osp.isfile(osp.join(work_dir, 'probe.json')):
            with open(osp.join(work_dir, 'probe.json'), encoding='utf-8') as f:
                probe = json.load(f)
    adapter = spec.get('adapter') or 'resnet'
    record = Pretrained(name, _convert(ckpt, osp.join(out_dir, f'{name}_backbone.pth'), log,
                                       adapter),
                        probe=probe, seconds=seconds)
    if start:
        from .weights import load_backbone_state, weight_change
        record.start_backbone = _convert(
            start, osp.join(out_dir, f'{name}{START_SUFFIX}_backbone.pth'), log, adapter)
        record.weight_change = weight_change(load_backbone_state(record.start_backbone),
                                             load_backbone_state(record.backbone))
    atomic_write(osp.join(out_dir, f'{name}_record.json'), json.dumps(asdict(record), indent=1))
    return record
