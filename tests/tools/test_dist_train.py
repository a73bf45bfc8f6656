"""Distributed *training* on CPU: tools/dist_train.sh with 2 processes (torchrun, gloo).

What only multi-process training can break: DenseCL's negative queues (keys gathered from both
ranks, the same on both), its momentum encoder (the same on both), the ``auto`` queue length (the
global batch), resuming rank 0's checkpoint under 2 processes and under 1; for fine-tuning, the
label-fraction subset (the same on every rank), the BN layers and the best-val checkpoint.
Per-rank state is dumped by the test-only hooks of tests/_toy/dist_probe.py.
"""
import glob
import json
import os
import os.path as osp
import shutil
import socket
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config

from mmssl_us.checkpoint import safe_load
from mmssl_us.config_utils import format_cfg_options
from mmssl_us.pretrain.config_utils import pretrain_cfg_options
from mmssl_us.pretrain.models.queue import resolve_queue_len
from mmssl_us.seg.config_utils import seg_cfg_options
from mmssl_us.synthetic.writer import write_knee_dataset

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOY = osp.join(ROOT, 'tests', '_toy')
DENSECL = osp.join(ROOT, 'configs', 'densecl', 'r50_knee.py')
FCN = osp.join(ROOT, 'configs', 'fcn', 'fcn_r50-d8-random_1xb16-40k_knee-256x256.py')
N_IMAGES, BATCH = 20, 4  # 2 processes: queue 16 (1 process would choose 20), 2 iters/epoch


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return str(s.getsockname()[1])


def _env():
    env = dict(os.environ, PORT=_free_port(), OMP_NUM_THREADS='1', MKL_NUM_THREADS='1',
               PYTHON=sys.executable)
    env['PYTHONPATH'] = os.pathsep.join([ROOT, TOY] + ([env['PYTHONPATH']]
                                                       if env.get('PYTHONPATH') else []))
    return env


def _run(cmd, timeout=240):
    out = subprocess.run(cmd, capture_output=True, text=True, env=_env(), timeout=timeout)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-4000:]
    return out.stdout + out.stderr


def dist_train(config, gpus, *args):
    return _run(['bash', osp.join(ROOT, 'tools', 'dist_train.sh'), config, str(gpus), *args])


def train(config, *args):
    return _run([sys.executable, osp.join(ROOT, 'tools', 'train.py'), config, *args])


def _dumps(probe_dir, tag, ranks):
    return [torch.load(osp.join(probe_dir, f'rank{r}_{tag}.pt'), weights_only=False)
            for r in range(ranks)]


# --- DenseCL ---------------------------------------------------------------------------------
@pytest.fixture(scope='module')
def densecl(tmp_path_factory):
    """configs/densecl/r50_knee.py shrunk (ResNet-18 of width 8, 32 px views, batch 4 per
    process, 2 epochs, warm-up 1 iteration), trained by 2 processes."""
    tmp = tmp_path_factory.mktemp('densecl')
    data = str(tmp / 'knee')
    write_knee_dataset(data, n_patients=3, frames_per_patient=1, n_unlabelled=N_IMAGES,
                       size=48, seed=0, progress_every=10**6)
    cfg = Config.fromfile(DENSECL)
    cfg.merge_from_dict(pretrain_cfg_options(cfg, depth=18, view_size=32, batch_size=BATCH,
                                             max_epochs=2, warmup_iters=1, num_workers=0))
    cfg.model.backbone.update(base_channels=8, stem_channels=8)  # stage 4: 64 channels
    cfg.model.neck.update(in_channels=64, hid_channels=32, out_channels=16)
    cfg.model.feat_dim = 16
    cfg.train_dataloader.dataset.data_root = data
    cfg.default_hooks.checkpoint.interval = 1
    cfg.custom_imports.imports = ['mmssl_us.pretrain', 'dist_probe']
    probe = str(tmp / 'probe')
    cfg.custom_hooks.append(dict(type='QueueProbeHook', out=probe))
    config = str(tmp / 'densecl_tiny.py')
    cfg.dump(config)
    work = str(tmp / 'work')
    log = dist_train(config, 2, '--work-dir', work)
    return dict(tmp=tmp, config=config, work=work, probe=probe, log=log,
                dumps=_dumps(probe, 'run', 2))


def _check_queues(dumps):
    """After every step: both ranks hold the same queues, and the columns written in that step
    are rank 0's keys followed by rank 1's."""
    r0, r1 = dumps
    assert [r['iter'] for r in r0['rows']] == [r['iter'] for r in r1['rows']]
    for a, b in zip(r0['rows'], r1['rows']):
        for name in ('queue', 'queue2'):
            assert torch.equal(a['queues'][name], b['queues'][name]), (a['iter'], name)
            assert not torch.equal(a['keys'][name], b['keys'][name])  # different images
            keys = torch.cat([a['keys'][name], b['keys'][name]]).T  # C x global batch
            ptr = a['ptr_before'][name]
            assert ptr == b['ptr_before'][name]
            torch.testing.assert_close(a['queues'][name][:, ptr:ptr + keys.shape[1]], keys,
                                       rtol=0, atol=0)
            assert a['ptr_after'][name] == (ptr + 2 * BATCH) % r0['queue_len']


@pytest.mark.slow
def test_queues_hold_the_keys_of_both_ranks_and_agree(densecl):
    r0, r1 = densecl['dumps']
    assert (r0['rank'], r0['world_size'], r1['rank']) == (0, 2, 1)
    assert len(r0['rows']) == 4  # 2 epochs x (20 images / 2 processes / batch 4)
    # the images of one step differ between the ranks (the sampler shards the data)
    for a, b in zip(r0['rows'], r1['rows']):
        assert not set(a['samples']) & set(b['samples'])
    assert torch.equal(r0['start']['queue'], r1['start']['queue'])  # rank 0's random start
    _check_queues(densecl['dumps'])


@pytest.mark.slow
def test_momentum_encoder_parameters_agree(densecl):
    """The key encoder is an EMA of the (all-reduced) query encoder: its parameters are the
    same bit for bit on both ranks after every step. Its BN running statistics are each rank's
    own (as on GPUs with plain or split BN; the checkpoint holds rank 0's)."""
    r0, r1 = densecl['dumps']
    for a, b in zip(r0['rows'], r1['rows']):
        assert a['online_params'] == b['online_params'], a['iter']
        assert a['key_params'] == b['key_params'], a['iter']
    assert r0['rows'][0]['key_params'] != r0['rows'][-1]['key_params']  # it did move


@pytest.mark.slow
def test_auto_queue_len_follows_the_global_batch(densecl):
    expected = resolve_queue_len(N_IMAGES, BATCH, world_size=2)
    assert expected != resolve_queue_len(N_IMAGES, BATCH, world_size=1)  # the test can fail
    for dump in densecl['dumps']:
        assert dump['queue_len'] == expected == dump['rows'][0]['queues']['queue'].shape[1]
    assert f'-> {expected} (largest multiple of the global batch {BATCH} x 2' in densecl['log']


def _resume_from_epoch_1(densecl, name):
    work = str(densecl['tmp'] / name)
    shutil.copytree(densecl['work'], work)
    ckpt = osp.join(work, 'epoch_1.pth')
    return work, ckpt, safe_load(ckpt)['state_dict']


@pytest.mark.slow
def test_rank0_checkpoint_resumes_under_two_processes(densecl):
    work, ckpt, saved = _resume_from_epoch_1(densecl, 'resume2')
    dist_train(densecl['config'], 2, '--work-dir', work, '--resume', ckpt,
               '--cfg-options', 'custom_hooks.3.tag=resume2')
    dumps = _dumps(densecl['probe'], 'resume2', 2)
    for d in dumps:
        assert d['start']['iter'] == 2
        assert torch.equal(d['start']['queue'], saved['queue'])  # the saved keys, not new ones
        assert d['start']['queue_ptr'] == int(saved['queue_ptr'])
        assert [r['iter'] for r in d['rows']] == [2, 3]  # 0-based
    _check_queues(dumps)
    assert osp.isfile(osp.join(work, 'epoch_2.pth'))


@pytest.mark.slow
def test_rank0_checkpoint_resumes_under_one_process(densecl):
    """One process would size an 'auto' queue at 20; the checkpoint's 16 keys are kept."""
    work, ckpt, saved = _resume_from_epoch_1(densecl, 'resume1')
    log = train(densecl['config'], '--work-dir', work, '--resume', ckpt,
                '--cfg-options', 'custom_hooks.3.tag=resume1')
    assert 'size mismatch' not in log
    (d, ) = _dumps(densecl['probe'], 'resume1', 1)
    assert d['world_size'] == 1 and d['start']['iter'] == 2
    assert d['queue_len'] == saved['queue'].shape[1] == 16
    assert torch.equal(d['start']['queue'], saved['queue'])
    rows = d['rows']
    assert [r['iter'] for r in rows] == [2, 3, 4, 5, 6]  # epoch 2: 20 images / batch 4
    for r in rows:
        ptr = r['ptr_before']['queue']
        torch.testing.assert_close(r['queues']['queue'][:, ptr:ptr + BATCH],
                                   r['keys']['queue'].T, rtol=0, atol=0)
        assert r['ptr_after']['queue'] == (ptr + BATCH) % 16


# --- fine-tuning -----------------------------------------------------------------------------
@pytest.mark.slow
def test_finetune_two_processes_fraction_bn_and_best_checkpoint(tmp_path):
    data = str(tmp_path / 'knee')
    write_knee_dataset(data, n_patients=8, frames_per_patient=2, n_unlabelled=0, size=48,
                       seed=0, progress_every=10**6)
    probe = str(tmp_path / 'probe')
    config = str(tmp_path / 'fcn_probe.py')
    with open(config, 'w') as f:  # the knee FCN config plus the probe hook
        f.write(f'_base_ = [{FCN!r}]\n'
                "custom_imports = dict(imports=['mmssl_us.seg', 'dist_probe'], "
                'allow_failed_imports=False)\n'
                "custom_hooks = [dict(type='LabelFractionHook'), "
                f"dict(type='SegProbeHook', out={probe!r})]\n")
    cfg = Config.fromfile(FCN)
    assert cfg.model.backbone.norm_cfg.type == 'SyncBN'
    opts = seg_cfg_options(cfg, crop_size=32, img_scale=48, max_iters=4, val_interval=1,
                           batch_size=2, depth=18, head_channels=8, num_workers=0,
                           label_fraction=0.5)
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        opts[f'{loader}.dataset.data_root'] = data
    opts['default_hooks.checkpoint.save_best'] = 'mIoU'
    # a weighted foreground loss, so that the tiny model's val mIoU moves in 4 iterations
    opts['model.decode_head.loss_decode.class_weight'] = [0.05, 1.0]
    opts['optim_wrapper.optimizer.lr'] = 0.05
    work = str(tmp_path / 'work')
    dist_train(config, 2, '--work-dir', work, '--cfg-options', *format_cfg_options(opts))

    # the label fraction: one subset, the same on both ranks, the one written to the list
    dumps = [torch.load(osp.join(probe, f'rank{r}.pt'), weights_only=False) for r in (0, 1)]
    assert [d['world_size'] for d in dumps] == [2, 2]
    with open(osp.join(work, 'label_fraction_train.txt')) as f:
        listed = sorted(osp.basename(line.strip()) for line in f
                        if line.strip() and not line.startswith('#'))
    assert dumps[0]['files'] == dumps[1]['files'] == listed
    assert 0 < len(listed) < 12  # a fraction of the 12 training images
    for d in dumps:
        assert {f for batch in d['batches'] for f in batch} <= set(listed)
    # SyncBN in the config; without CUDA each process normalises its own batch (plain BN)
    for d in dumps:
        assert not any('Sync' in n for n in d['norms']) and d['norms']

    # the best-val checkpoint: the iteration of the highest val mIoU (the first, on a tie)
    (scalars, ) = glob.glob(osp.join(work, '*', 'vis_data', 'scalars.json'))
    with open(scalars) as f:
        val = [r for r in map(json.loads, f) if 'mIoU' in r]
    assert [r['step'] for r in val] == [1, 2, 3, 4]
    assert len({r['mIoU'] for r in val}) > 1, 'val mIoU never moved: the check proves nothing'
    best = max(val, key=lambda r: r['mIoU'])
    best_iter = next(r['step'] for r in val if r['mIoU'] == best['mIoU'])
    (best_ckpt, ) = glob.glob(osp.join(work, 'best_mIoU_iter_*.pth'))
    assert osp.basename(best_ckpt) == f'best_mIoU_iter_{best_iter}.pth'
    best_state = safe_load(best_ckpt)
    assert best_state['meta']['iter'] == best_iter
    weights = safe_load(osp.join(work, f'iter_{best_iter}.pth'))['state_dict']
    for key, value in best_state['state_dict'].items():
        if not key.endswith(('running_mean', 'running_var', 'num_batches_tracked')):
            assert torch.equal(value, weights[key]), key  # the weights of that iteration
    # and tested on val in one process it scores what the 2-process validation logged
    out = str(tmp_path / 'best_val.json')
    val_opts = dict(opts)
    val_opts['test_dataloader.dataset.data_prefix.img_path'] = 'images/val'
    val_opts['test_dataloader.dataset.data_prefix.seg_map_path'] = 'masks/val'
    _run([sys.executable, osp.join(ROOT, 'tools', 'test.py'), FCN, best_ckpt, '--work-dir',
          str(tmp_path / 'test'), '--out', out, '--cfg-options',
          *format_cfg_options(val_opts)])
    with open(out) as f:
        assert json.load(f)['mIoU'] == pytest.approx(best['mIoU'], abs=1e-4)
