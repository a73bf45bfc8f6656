"""Fake study steps with the real signatures, for the runner's tests (no training).

``fake_pretrain(...)`` returns a ``pretrain_fn`` with the signature and return type of
:func:`mmssl_us.study.pretraining.pretrain`: a ``Pretrained`` naming ``backbone`` (and
``start_backbone`` etc. when given), without training.

``fake_finetune(...)`` returns a ``finetune_fn`` with the signature of
:func:`mmssl_us.study.finetune.finetune_once`: it makes the run's folder (as a real run does),
calls ``before`` (record the call, check the backbone, stand for an interruption by raising),
and returns a row whose mIoU is ``miou(key, backbone)``.
"""
import json
import os
from typing import Callable, Optional


def fake_finetune(miou: Callable = lambda key, backbone: 50.0,
                  curve: Callable = lambda value: [[10, value]],
                  before: Optional[Callable] = None, extra: Optional[Callable] = None):
    """A fake ``finetune_fn``.

    Args:
        miou (Callable): ``(key, backbone) -> float``, the row's mIoU. Defaults to 50.
        curve (Callable): ``mIoU -> [[iteration, val mIoU], ...]``. Defaults to one point.
        before (Callable, optional): ``(key, backbone, run_dir)``, called after the run's
            folder is made. Defaults to None.
        extra (Callable, optional): ``mIoU -> dict`` of more row fields. Defaults to None.
    """

    def finetune(key, spec, backbone, run_dir, data_root):
        os.makedirs(run_dir)
        if before is not None:
            before(key, backbone, run_dir)
        value = miou(key, backbone)
        row = dict(init=key.init, fraction=key.fraction, seed=key.seed, mIoU=value,
                   curve=json.dumps(curve(value)), work_dir=run_dir)
        row.update(extra(value) if extra else {})
        return row

    return finetune


def fake_pretrain(backbone: str = 'backbone.pth', calls: Optional[list] = None, **fields):
    """A fake ``pretrain_fn``.

    Args:
        backbone (str): The ``Pretrained.backbone`` it returns. Defaults to 'backbone.pth'.
        calls (list, optional): Appended ``(name, spec, study)`` on each call.
        **fields: More ``Pretrained`` fields (``start_backbone``, ``weight_change``, ...).
    """
    from mmssl_us.study.pretraining import Pretrained

    def pretrain(name, spec, study_dir, log=print, study=None):
        if calls is not None:
            calls.append((name, spec, study))
        return Pretrained(name, backbone, **fields)

    return pretrain


def worker_finetune(key, spec, backbone, run_dir, data_root):
    """A fake ``finetune_fn`` that a worker process can unpickle (``study.jobs`` > 1).

    The row's mIoU is a function of the key; it also records the process that ran it
    (``pid``), that process's torch threads (``threads``) and when it ran (``t_start``,
    ``t_end``; each run takes 0.3 s). The run named in ``<data_root>/FAIL``
    (``random/frac0.5_seed1``), when that file exists, raises.
    """
    import time

    import torch
    os.makedirs(run_dir)
    t_start = time.time()
    time.sleep(0.3)
    fail = os.path.join(data_root, 'FAIL')
    if os.path.isfile(fail) and open(fail).read().strip() == key.name:
        raise RuntimeError(f'{key.name} failed on purpose')
    value = 50.0 + 10 * key.fraction + key.seed + (5.0 if backbone else 0.0)
    return dict(init=key.init, fraction=key.fraction, seed=key.seed, mIoU=value,
                curve=json.dumps([[10, value]]), work_dir=run_dir, pid=os.getpid(),
                threads=torch.get_num_threads(), t_start=t_start, t_end=time.time())
