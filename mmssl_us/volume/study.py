"""The 3D sample-efficiency study: Models Genesis pretraining handed to nnU-Net v2.

One command (``python tools/run_study.py configs/study/volume_quickstart.py``) runs, in a work
dir, what the thesis we follow measures on CT, at a CPU scale:

1. data: synthetic volumes (:mod:`.synthetic`) unless ``volume.src`` names the user's folder;
   converted to nnU-Net's raw layout with the patient split (:mod:`.convert`);
2. nnU-Net's own fingerprint, plans and preprocessing (:func:`.nnunet.plan_and_preprocess`);
3. Models Genesis restoration pretraining of the plans' network on the unlabelled volumes
   (:func:`.pretrain.pretrain_genesis`): ``genesis.pth`` and its same-start file, both
   verified against a freshly built nnU-Net network;
4. for each unlabelled:labelled ratio and seed, a patient-level draw of that many labelled
   training cases (nested over ratios: the draw of a higher ratio is a subset of a lower one),
   written as one more fold of nnU-Net's ``splits_final.json`` (the validation cases are
   fold 0's, the same for every run); for each arm (``random``, ``genesis``,
   ``genesis_start``: the pretraining's own weights before its first step) one fine-tune by
   ``python -m nnunetv2.run.run_training ... -pretrained_weights`` with the short CPU trainer
   (``nnUNetTrainerMMSSLShort``, seeded through ``MMSSL_US_NNUNET_SEED``);
5. the fixed test split predicted with nnU-Net's predictor from the run's
   ``checkpoint_best.pth`` (nnU-Net selects it on its validation pseudo-Dice: best-val
   selection), scored here (Dice per foreground label and IoU per class over all test voxels,
   as mmseg totals them) together with nnU-Net's per-epoch log (validation Dice curve, time to
   90% of the final Dice);
6. ``results.csv`` and the 2D study's report (:func:`mmssl_us.study.report.write_report`:
   gates, paired differences with Holm, plots); ``fraction`` is the share of the labelled
   training cases a run used, ``ratio`` the unlabelled:labelled ratio it stands for.

A run counts as finished once its row is in ``results.csv``; an interrupted study resumes.
The settings that change results are recorded once (``volume_study.json``, through
:mod:`mmssl_us.records`) and checked on every resume; seeds, ratios and arms may be added.
Never imports mmseg or mmpretrain; nnunetv2 only inside the steps.
"""
from __future__ import annotations

import copy
import hashlib
import json
import os
import os.path as osp
import subprocess
import sys
import time
from typing import Callable, Dict, List, Optional, Sequence

import numpy as np

from .. import records
from ..fileio import atomic_write
from ..process import WorkDirLock
from ..validate import check_choice, check_float, check_int, did_you_mean

__all__ = ['VOLUME_SPEC', 'VOLUME_RESULT_KEYS', 'check_volume_study', 'labelled_counts',
           'draw_labelled', 'fold_splits', 'score_folder', 'run_volume_study', 'train_nnunet',
           'predict_test', 'run_from_config', 'ARMS']

#: the arms: random init, the Genesis pretraining, its same-start control
ARMS = ('random', 'genesis', 'genesis_start')
TRAINER = 'nnUNetTrainerMMSSLShort'

_ANY = object()
#: the keys of ``volume`` (the study dict of a 3D study) and their defaults
VOLUME_SPEC: Dict[str, object] = dict(
    src=None,  # a folder of NIfTI volumes (images/, masks/, unlabelled/); None: synthetic
    synthetic=dict(n_labelled=20, n_unlabelled=40, size=32, seed=0),
    dataset_id=501, name='VolumeStudy', label_names=None,
    split=dict(val=0.2, test=0.3, seed=0),
    pretrain=dict(steps=100, batch_size=2, lr=1e-3, seed=0, distortions=None),
    # val_iters='all': every val case once an epoch, the same batches every epoch; ema=0: the
    # best-val checkpoint is the epoch of the best pseudo Dice itself (nnU-Net's 0.9 moving
    # average has a ten-epoch time constant; see the trainer's docstring)
    finetune=dict(epochs=10, iters=8, val_iters='all', ema=0.0),
    ratios=[10, 4], seeds=[0, 1], inits=list(ARMS), baseline='random',
)
#: the keys a finished run's numbers depend on (recorded, checked on resume)
VOLUME_RESULT_KEYS = ('src', 'synthetic', 'dataset_id', 'name', 'label_names', 'split',
                      'pretrain', 'finetune')


def _with_defaults(volume: dict) -> dict:
    out = copy.deepcopy(VOLUME_SPEC)
    for key, value in volume.items():
        if isinstance(out.get(key), dict) and isinstance(value, dict):
            out[key] = dict(out[key], **value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def check_volume_study(volume: object, source: str = 'the study config') -> dict:
    """The ``volume`` dict with its defaults, every key and value checked before any work.

    Raises:
        ValueError: an unknown key (with a did-you-mean), a bad ratio, seed, arm or length.
    """
    from ..study.spec import check_seeds
    if not isinstance(volume, dict):
        raise ValueError(f'{source}: `volume` must be a dict, got {type(volume).__name__}')
    for key, value in volume.items():
        if key not in VOLUME_SPEC:
            raise ValueError(f'{source}: volume: unknown key {key!r}' +
                             did_you_mean(str(key), VOLUME_SPEC) +
                             f'; volume may hold {", ".join(sorted(VOLUME_SPEC))}')
        default = VOLUME_SPEC[key]
        if isinstance(default, dict):
            if not isinstance(value, dict):
                raise ValueError(f'{source}: volume.{key} must be a dict, got {value!r}')
            for sub in value:
                if sub not in default:
                    raise ValueError(f'{source}: volume.{key}: unknown key {sub!r}' +
                                     did_you_mean(str(sub), default) +
                                     f'; volume.{key} may hold {", ".join(sorted(default))}')
    v = _with_defaults(volume)
    try:
        ratios = v['ratios']
        if not isinstance(ratios, (list, tuple)) or not ratios:
            raise ValueError(f'volume.ratios must be a non-empty list, got {ratios!r}')
        v['ratios'] = [check_float(f'volume.ratios[{i}]', r, low=0, low_open=True)
                       for i, r in enumerate(ratios)]
        if len(set(v['ratios'])) != len(v['ratios']):
            raise ValueError(f'volume.ratios lists a ratio twice: {ratios}')
        v['seeds'] = check_seeds(v['seeds'], 'volume.seeds')
        inits = v['inits']
        if not isinstance(inits, (list, tuple)) or not inits:
            raise ValueError(f'volume.inits must be a non-empty list of arms, got {inits!r}')
        for i, arm in enumerate(inits):
            check_choice(f'volume.inits[{i}]', arm, ARMS)
        if 'genesis_start' in inits and 'genesis' not in inits:
            raise ValueError("volume.inits: 'genesis_start' is the same-start arm of "
                             "'genesis', which must be in volume.inits too")
        check_choice('volume.baseline', v['baseline'], tuple(inits))
        check_int('volume.dataset_id', v['dataset_id'], low=1, high=999)
        for key in ('epochs', 'iters'):
            check_int(f'volume.finetune.{key}', v['finetune'][key], low=1)
        val_iters = v['finetune']['val_iters']
        if val_iters != 'all':
            try:
                check_int('volume.finetune.val_iters', val_iters, low=1)
            except ValueError:
                raise ValueError("volume.finetune.val_iters must be a positive int or 'all' "
                                 f'(every val case once an epoch), got {val_iters!r}') from None
        check_float('volume.finetune.ema', v['finetune']['ema'], low=0, high=1,
                    high_open=True)
        check_int('volume.pretrain.steps', v['pretrain']['steps'], low=1)
        check_int('volume.pretrain.batch_size', v['pretrain']['batch_size'], low=1)
        if v['src'] is None:
            syn = v['synthetic']
            check_int('volume.synthetic.n_labelled', syn['n_labelled'], low=3)
            check_int('volume.synthetic.n_unlabelled', syn['n_unlabelled'], low=1)
        elif not isinstance(v['src'], str):
            raise ValueError(f'volume.src must be a folder path or None, got {v["src"]!r}')
    except ValueError as exc:
        raise ValueError(f'{source}: {exc}') from None
    return v


def labelled_counts(n_unlabelled: int, n_train: int, ratios: Sequence[float]) -> Dict[float, int]:
    """Labelled training cases per unlabelled:labelled ratio: ``round(n_unlabelled / ratio)``.

    Raises:
        ValueError: a ratio that needs more labelled training cases than there are, or none.
    """
    out = {}
    for ratio in ratios:
        n = int(round(n_unlabelled / ratio))
        if n < 1 or n > n_train:
            raise ValueError(f'ratio {ratio:g}:1 with {n_unlabelled} unlabelled volumes needs '
                             f'{n} labelled training cases; the training split holds '
                             f'{n_train}: choose ratios between {n_unlabelled / n_train:.3g} '
                             f'and {n_unlabelled:g}')
        out[ratio] = n
    return out


def draw_labelled(train_cases: Sequence[str], n: int, seed: int) -> List[str]:
    """``n`` training cases drawn at the patient level with the label fractions' seeded
    ranking (:func:`mmssl_us.data.splits.patient_rank`): nested over ``n`` for one seed."""
    from ..data.splits import patient_id, patient_rank
    by_patient: Dict[str, List[str]] = {}
    for case in sorted(train_cases):
        by_patient.setdefault(patient_id(case + '.nii.gz') or case, []).append(case)
    chosen: List[str] = []
    for pid in patient_rank(list(by_patient), seed):
        if len(chosen) >= n:
            break
        chosen += by_patient[pid]
    return sorted(chosen)


def fold_splits(base: dict, draws: Dict[str, List[str]]) -> List[dict]:
    """nnU-Net's ``splits_final.json``: fold 0 as converted (all labelled training cases),
    then one fold per draw in the order of ``draws`` (the registry of :func:`_fold_of`)."""
    return [dict(train=list(base['train']), val=list(base['val']))] + [
        dict(train=list(cases), val=list(base['val'])) for cases in draws.values()]


def score_folder(pred_dir: str, label_dir: str, num_classes: int,
                 class_names: Sequence[str]) -> Dict[str, float]:
    """Dice and IoU (percent) of predicted label volumes against the reference ones, totals
    over all voxels of all cases per class (mmseg's way); ``mIoU`` / ``mDice`` average all
    classes (background included, as mmseg's), ``fgDice`` the foreground ones (the thesis's
    mean foreground Dice).

    Raises:
        FileNotFoundError: a reference volume has no prediction (named).
    """
    from .convert import read_volume
    names = sorted(f for f in os.listdir(label_dir) if f.endswith('.nii.gz'))
    if not names:
        raise FileNotFoundError(f'no reference volumes in {label_dir}')
    inter = np.zeros(num_classes)
    total_pred = np.zeros(num_classes)
    total_ref = np.zeros(num_classes)
    for name in names:
        pred_path = osp.join(pred_dir, name)
        if not osp.isfile(pred_path):
            raise FileNotFoundError(f'no prediction {pred_path} for {osp.join(label_dir, name)}')
        pred, _ = read_volume(pred_path)
        ref, _ = read_volume(osp.join(label_dir, name))
        if pred.shape != ref.shape:
            raise ValueError(f'{pred_path}: shape {pred.shape} differs from the reference '
                             f'{ref.shape}')
        for c in range(num_classes):
            p, r = pred == c, ref == c
            inter[c] += np.logical_and(p, r).sum()
            total_pred[c] += p.sum()
            total_ref[c] += r.sum()
    union = total_pred + total_ref - inter
    iou = 100 * inter / np.maximum(union, 1)
    dice = 100 * 2 * inter / np.maximum(total_pred + total_ref, 1)
    out = dict(mIoU=float(iou.mean()), mDice=float(dice.mean()),
               fgDice=float(dice[1:].mean()))
    for c, name in enumerate(class_names):
        out[f'IoU.{name}'] = float(iou[c])
        out[f'Dice.{name}'] = float(dice[c])
    return out


def _env(dirs: Dict[str, str], results: str, finetune: dict, seed: int) -> Dict[str, str]:
    from .nnunet import TRAINERS_DIR
    env = dict(os.environ)
    env.update(nnUNet_raw=dirs['raw'], nnUNet_preprocessed=dirs['preprocessed'],
               nnUNet_results=results, nnUNet_extTrainer=TRAINERS_DIR, nnUNet_n_proc_DA='0',
               MMSSL_US_NNUNET_EPOCHS=str(finetune['epochs']),
               MMSSL_US_NNUNET_ITERS=str(finetune['iters']),
               MMSSL_US_NNUNET_VAL_ITERS=str(finetune['val_iters']),
               MMSSL_US_NNUNET_EMA=repr(float(finetune['ema'])),
               MMSSL_US_NNUNET_SEED=str(seed), nnUNet_compile='f',
               # the test split is predicted and scored here: nnU-Net's own final validation
               # (a mirrored sliding-window pass over the validation cases) is not read
               MMSSL_US_NNUNET_FINAL_VAL='0')
    return env


def train_nnunet(dataset_id: int, fold: int, weights: Optional[str], dirs: Dict[str, str],
                 results: str, finetune: dict, seed: int, log_path: str) -> str:
    """One nnU-Net fine-tune, as a user runs it (``nnUNetv2_train``), in a child process.

    Returns:
        str: The run's output folder (``checkpoint_best.pth``, ``checkpoint_final.pth``).

    Raises:
        RuntimeError: nnU-Net failed; the message names its log.
    """
    cmd = [sys.executable, '-m', 'nnunetv2.run.run_training', str(dataset_id), '3d_fullres',
           str(fold), '-tr', TRAINER, '-device', 'cpu']
    if weights:
        cmd += ['-pretrained_weights', weights]
    os.makedirs(osp.dirname(log_path), exist_ok=True)
    with open(log_path, 'a', encoding='utf-8') as log:  # the child's output, appended
        code = subprocess.call(cmd, env=_env(dirs, results, finetune, seed), stdout=log,
                               stderr=subprocess.STDOUT)
    if code != 0:
        raise RuntimeError(f'nnU-Net training failed (exit {code}): {" ".join(cmd)}; see '
                           f'{log_path}')
    from .nnunet import dataset_name
    from .nnunet import nnunet_env
    with nnunet_env(dirs['raw'], dirs['preprocessed'], results):
        name = dataset_name(dataset_id)
    return osp.join(results, name, f'{TRAINER}__nnUNetPlans__3d_fullres', f'fold_{fold}')


def predict_test(model_dir: str, fold: int, images_ts: str, out_dir: str) -> None:
    """nnU-Net's predictor on the test images, from the run's best-val checkpoint (no test-time
    mirroring, no worker processes)."""
    import torch
    from nnunetv2.inference.predict_from_raw_data import nnUNetPredictor

    from .nnunet import TRAINERS_DIR, nnunet_env
    with nnunet_env(nnUNet_extTrainer=TRAINERS_DIR):  # the predictor finds it by name
        predictor = nnUNetPredictor(tile_step_size=0.5, use_gaussian=True, use_mirroring=False,
                                    perform_everything_on_device=False,
                                    device=torch.device('cpu'), verbose=False, allow_tqdm=False)
        predictor.initialize_from_trained_model_folder(
            osp.dirname(model_dir), use_folds=(fold, ), checkpoint_name='checkpoint_best.pth')
        os.makedirs(out_dir, exist_ok=True)
        predictor.predict_from_files_sequential(images_ts, out_dir, save_probabilities=False,
                                                overwrite=True)


def _digest(settings: dict) -> str:
    text = json.dumps(records.normalise(settings), sort_keys=True)
    return 'sha256:' + hashlib.sha256(text.encode('utf-8')).hexdigest()[:16]


def _fold_of(registry_path: str, key: str, cases: List[str]) -> int:
    """The fold number of a draw, stable over resumes (new draws get new numbers)."""
    reg = records.read_record(registry_path) or {}
    if key in reg:
        if reg[key]['train'] != cases:
            raise ValueError(f'{registry_path}: draw {key} holds other cases than now '
                             f'({reg[key]["train"][:3]}... vs {cases[:3]}...): use a new work '
                             'dir')
        return int(reg[key]['fold'])
    reg[key] = dict(fold=1 + len(reg), train=cases)
    records.write_record(registry_path, reg)
    return int(reg[key]['fold'])


def run_volume_study(volume: dict, work_dir: str, log: Callable[[str], None] = print,
                     train_fn: Callable = train_nnunet, predict_fn: Callable = predict_test,
                     prepare_fn: Optional[Callable] = None, source: str = 'the study config'
                     ) -> str:
    """Run (or resume) the 3D study of ``volume`` in ``work_dir``; return ``work_dir``.

    ``train_fn`` / ``predict_fn`` / ``prepare_fn`` stand for nnU-Net's training, prediction and
    the data + planning + pretraining step (:func:`_prepare`) in the tests, with their
    signatures.
    """
    v = check_volume_study(volume, source)
    os.makedirs(work_dir, exist_ok=True)
    with WorkDirLock(work_dir), open(osp.join(work_dir, 'study.log'), 'a',
                                     encoding='utf-8') as log_file:

        def tee(line: str) -> None:
            log(line)
            log_file.write(f'{time.strftime("%Y-%m-%d %H:%M:%S")} {line}\n')
            log_file.flush()

        return _run_locked(v, work_dir, tee, train_fn, predict_fn, prepare_fn or _prepare)


def _prepare(v: dict, work_dir: str, log: Callable[[str], None]) -> dict:
    """Data, nnU-Net planning and the Genesis pretraining (each reused when done)."""
    from .convert import convert_to_nnunet
    from .nnunet import load_json, nnunet_env, plan_and_preprocess
    from .pretrain import preprocess_volumes, pretrain_genesis
    from .synthetic import write_volume_folder
    dirs = dict(raw=osp.join(work_dir, 'nnunet', 'raw'),
                preprocessed=osp.join(work_dir, 'nnunet', 'preprocessed'))
    src = v['src']
    if src is None:
        src = osp.join(work_dir, 'src')
        if not osp.isdir(osp.join(src, 'images')):
            syn = v['synthetic']
            counts = write_volume_folder(src, syn['n_labelled'], syn['n_unlabelled'],
                                         size=syn['size'], seed=syn['seed'])
            log(f'[volume] synthetic volumes in {src}: {counts}')
    raw = osp.join(dirs['raw'], f'Dataset{v["dataset_id"]:03d}_{v["name"]}')
    if not osp.isfile(osp.join(raw, 'splits_final.json')):
        t0 = time.time()
        raw = convert_to_nnunet(src, dirs['raw'], v['dataset_id'], v['name'],
                                label_names=v['label_names'], val=v['split']['val'],
                                test=v['split']['test'], seed=v['split']['seed'])
        log(f'[volume] nnU-Net raw dataset {raw} ({time.time() - t0:.1f} s)')
    pre = osp.join(dirs['preprocessed'], osp.basename(raw))
    plans_file = osp.join(pre, 'nnUNetPlans.json')
    results = osp.join(work_dir, 'nnunet', 'results')
    with nnunet_env(dirs['raw'], dirs['preprocessed'], results, nnUNet_n_proc_DA='1'):
        planned = osp.join(work_dir, 'nnunet', 'planned.json')  # not in nnU-Net's folders:
        if records.read_record(planned) is None:  # it refuses files it did not write there
            t0 = time.time()
            plans_file = plan_and_preprocess(v['dataset_id'])
            records.write_record(planned, dict(plans=plans_file, seconds=time.time() - t0))
            log(f'[volume] nnU-Net planned and preprocessed in {time.time() - t0:.1f} s')
        plans, dataset_json = load_json(plans_file), load_json(osp.join(raw, 'dataset.json'))
        out = osp.join(work_dir, 'pretrain')
        record = osp.join(out, 'pretrain.json')
        done = records.read_record(record)
        if done is None:
            folder = osp.join(raw, 'imagesUnlabelled')
            files = sorted(osp.join(folder, f) for f in os.listdir(folder))
            t0 = time.time()
            volumes = preprocess_volumes(files, plans, dataset_json)
            p = v['pretrain']
            run = pretrain_genesis(volumes, plans, dataset_json, out, steps=p['steps'],
                                   batch_size=p['batch_size'], lr=p['lr'], seed=p['seed'],
                                   distortions=p['distortions'])
            done = dict(genesis=run['genesis'], same_start=run['same_start'],
                        curve=[list(c) for c in run['curve']], seconds=time.time() - t0,
                        volumes=len(volumes))
            records.write_record(record, done)
            log(f'[volume] Genesis pretraining: {p["steps"]} steps on {len(volumes)} '
                f'unlabelled volumes in {done["seconds"]:.1f} s, loss {done["curve"][0][1]:.4f}'
                f' -> {done["curve"][-1][1]:.4f}')
    return dict(dirs=dirs, raw=raw, preprocessed=pre, results=results, pretrain=done,
                dataset_json=dataset_json)


def _run_locked(v: dict, work_dir: str, log: Callable[[str], None], train_fn: Callable,
                predict_fn: Callable, prepare_fn: Callable) -> str:
    from ..study.nnunet_log import best_epoch, dice_curve, time_to_fraction
    from ..study.report import write_report
    from ..study.results import append_row, read_results
    settings = {k: v[k] for k in VOLUME_RESULT_KEYS}
    records.check_record(osp.join(work_dir, 'volume_study.json'), settings, 'this 3D study',
                         'give the study a new work dir (--work-dir), or restore the old '
                         'settings')
    digest = _digest(settings)
    prep = prepare_fn(v, work_dir, log)
    with open(osp.join(prep['raw'], 'splits_final.json'), encoding='utf-8') as f:
        base = json.load(f)[0]
    dataset_json = prep['dataset_json']
    n_unlabelled = len(dataset_json['mmssl_us']['unlabelled'])
    counts = labelled_counts(n_unlabelled, len(base['train']), v['ratios'])
    labels = dataset_json['labels']
    class_names = [name for name, _ in sorted(labels.items(), key=lambda kv: kv[1])]
    weights = dict(random=None, genesis=prep['pretrain']['genesis'],
                   genesis_start=prep['pretrain']['same_start'])

    registry = osp.join(work_dir, 'folds.json')
    plan = []  # (ratio, seed, fold, cases), highest ratio (fewest labels) first
    for ratio in sorted(v['ratios'], reverse=True):
        for seed in v['seeds']:
            cases = draw_labelled(base['train'], counts[ratio], seed)
            plan.append((ratio, seed, _fold_of(registry, f'ratio{ratio:g}_seed{seed}', cases),
                         cases))
    reg = records.read_record(registry) or {}
    draws = {k: r['train'] for k, r in sorted(reg.items(), key=lambda kv: kv[1]['fold'])}
    splits = fold_splits(base, draws)
    atomic_write(osp.join(prep['preprocessed'], 'splits_final.json'), json.dumps(splits,
                                                                                 indent=1))

    results_csv = osp.join(work_dir, 'results.csv')
    rows = read_results(results_csv)
    done = {(r['init'], float(r['fraction']), int(r['seed'])) for r in rows
            if r.get('mIoU') is not None}
    other = [r for r in rows if r.get('settings') and r['settings'] != digest]
    if other:
        raise ValueError(f'{len(other)} finished run(s) in {results_csv} were made with other '
                         f'settings ({other[0]["settings"]}, now {digest}): give this study a '
                         'new work dir (--work-dir)')
    runs = [(ratio, seed, fold, cases, init) for ratio, seed, fold, cases in plan
            for init in v['inits']]
    todo = [r for r in runs if (r[4], len(r[3]) / len(base['train']), r[1]) not in done]
    log(f'[volume] {len(runs)} runs planned, {len(runs) - len(todo)} already finished, '
        f'{len(todo)} to go ({work_dir})')
    durations: List[float] = []
    for k, (ratio, seed, fold, cases, init) in enumerate(todo):
        eta = (f'ETA {np.mean(durations) * (len(todo) - k) / 60:.1f} min' if durations
               else 'ETA after the first run')
        name = f'{init}/ratio{ratio:g}_seed{seed}'
        log(f'[volume] run {len(runs) - len(todo) + k + 1}/{len(runs)}: {name} '
            f'({len(cases)} labelled volumes, fold {fold}) | {eta}')
        t0 = time.time()
        results = osp.join(prep['results'], init)
        run_dir = train_fn(int(v['dataset_id']), fold, weights[init], prep['dirs'], results,
                           v['finetune'], seed, osp.join(work_dir, 'logs', f'{init}_fold{fold}.log'))
        t_train = time.time() - t0
        pred_dir = osp.join(work_dir, 'predictions', init, f'ratio{ratio:g}_seed{seed}')
        predict_fn(run_dir, fold, osp.join(prep['raw'], 'imagesTs'), pred_dir)
        scores = score_folder(pred_dir, osp.join(prep['raw'], 'labelsTs'), len(class_names),
                              class_names)
        logging = records.read_record(osp.join(run_dir, 'training_log.json'))
        if logging is None:
            raise FileNotFoundError(f'{run_dir} has no training_log.json: the run was not '
                                    f'trained with {TRAINER}')
        to90 = time_to_fraction(logging)
        row = dict(init=init, fraction=len(cases) / len(base['train']), seed=seed,
                   ratio=ratio, labelled=len(cases), **scores,
                   curve=json.dumps(dice_curve(logging, 'ema_fg_dice')),
                   epochs_to_90=to90['epochs'], seconds_to_90=to90['seconds'],
                   best_iter=best_epoch(logging),  # the epoch of checkpoint_best.pth
                   train_seconds=round(t_train, 1), work_dir=run_dir, settings=digest)
        append_row(results_csv, row)
        durations.append(time.time() - t0)
        log(f'[volume] {name}: test fgDice {scores["fgDice"]:.2f}, mIoU {scores["mIoU"]:.2f} '
            f'({time.time() - t0:.0f} s)')
    design = dict(train=dict(images=len(base['train']), patients=len(base['train'])),
                  val=dict(images=len(base['val']), patients=len(base['val'])),
                  test=dict(images=len(os.listdir(osp.join(prep['raw'], 'labelsTs'))),
                            patients=len(os.listdir(osp.join(prep['raw'], 'labelsTs')))))
    pretrainings = {'genesis': dict(start_arm='genesis_start' if 'genesis_start' in v['inits']
                                    else None, weight_change=None, probe=[])} \
        if 'genesis' in v['inits'] else None
    paths = write_report(results_csv, work_dir, baseline=v['baseline'],
                         pretrainings=pretrainings, design=design,
                         curve=dict(metric='val pseudo-Dice', step='epoch'))
    with open(paths[0], encoding='utf-8') as f:
        log(f.read())
    for p in paths:
        log(f'[volume] report: {p}')
    return work_dir


def run_from_config(path: str, work_dir: Optional[str] = None,
                    cfg_options: Optional[dict] = None, log: Callable[[str], None] = print
                    ) -> str:
    """Run the 3D study of a config holding a ``volume`` dict (``tools/run_study.py`` sends
    such configs here); ``--cfg-options volume.seeds=[0,1,2]`` and the like are merged."""
    from mmengine.config import Config

    from ..config_utils import check_cfg_options, resolve_config
    path = resolve_config(path)
    cfg = Config.fromfile(path)
    if cfg_options:
        check_cfg_options(cfg, cfg_options)
        cfg.merge_from_dict(cfg_options)
    volume = cfg.volume.to_dict() if hasattr(cfg.volume, 'to_dict') else dict(cfg.volume)
    work_dir = work_dir or osp.join('work_dirs', 'study', osp.splitext(osp.basename(path))[0])
    check_volume_study(volume, path)  # before the work dir is made
    os.makedirs(work_dir, exist_ok=True)
    cfg.dump(osp.join(work_dir, 'study_config.py'))
    return run_volume_study(volume, work_dir, log=log, source=path)
