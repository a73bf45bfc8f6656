"""The package works without the repository's tools/: a copy of mmssl_us/ alone on PYTHONPATH,
run from another folder, converts a pretraining checkpoint (with verification) and runs a study
whose pretraining command is ``python -m mmssl_us.launch train`` and whose conversion runs
in-process."""
import json
import os
import os.path as osp
import shutil
import subprocess
import sys

import pytest
import torch

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))

STUDY = '''
study = dict(data_root={data!r}, inits=['densecl', 'random'], fractions=[1.0], seeds=[0, 1, 2],
             baseline='random', finetune=dict(config='unused.py'),
             pretrain=dict(densecl=dict(config={config!r},
                                        cfg_options={{'train_cfg.max_epochs': 1}})))
'''

SCRIPT = r'''
import contextlib, io, json, os, runpy, shutil, subprocess, sys, types
import torch

site, fake_ckpt, study_cfg, tests_dir = sys.argv[1:5]
sys.path.append(tests_dir)  # the tests' fake steps (tests/_toy), after the package copy
from _toy import fake_steps as fakes
# (a) `python -m mmssl_us.transfer SRC DST --verify`, run as -m would run it
sys.argv = ['mmssl_us.transfer', fake_ckpt, 'backbone.pth', '--verify']
with contextlib.redirect_stdout(io.StringIO()) as convert_out:
    try:
        runpy.run_module('mmssl_us.transfer', run_name='__main__', alter_sys=True)
    except SystemExit as exc:
        assert exc.code == 0, exc.code
from mmssl_us.study import pretraining, runner

calls = []


def fake_run(cmd, env):  # stands for the pretraining process: writes its checkpoint
    calls.append(dict(cmd=cmd, pythonpath=env['PYTHONPATH']))
    work_dir = cmd[cmd.index('--work-dir') + 1]
    os.makedirs(work_dir, exist_ok=True)
    shutil.copyfile(fake_ckpt, os.path.join(work_dir, 'epoch_1.pth'))
    shutil.copyfile(fake_ckpt, os.path.join(work_dir, 'start_weights.pth'))
    with open(os.path.join(work_dir, 'last_checkpoint'), 'w') as f:
        f.write(os.path.join(work_dir, 'epoch_1.pth'))


def mmseg_names(key, backbone, run_dir):
    if backbone is not None:
        state = torch.load(backbone, weights_only=True)['state_dict']
        assert 'stem.0.weight' in state and 'stem.0.conv.weight' not in state


fake_finetune = fakes.fake_finetune(
    miou=lambda key, backbone: (60.0 if backbone is None else 65.0) + key.seed,
    curve=lambda m: [], extra=lambda m: dict(mDice=m), before=mmseg_names)


pretraining.run_child = fake_run
lines = []
work = runner.run_study(study_cfg, 'study', log=lines.append, finetune_fn=fake_finetune)
outside = sorted(m.__file__ for n, m in sys.modules.items()
                 if n.startswith('mmssl_us') and getattr(m, '__file__', None)
                 and not m.__file__.startswith(site))
print(json.dumps(dict(calls=calls, lines=lines, work=os.path.abspath(work), outside=outside,
                      convert=convert_out.getvalue())))
'''


@pytest.fixture(scope='module')
def standalone(tmp_path_factory):
    """(site folder holding only a copy of mmssl_us, env with it on PYTHONPATH, a cwd)."""
    base = tmp_path_factory.mktemp('standalone')
    site = base / 'site'
    shutil.copytree(osp.join(ROOT, 'mmssl_us'), site / 'mmssl_us',
                    ignore=shutil.ignore_patterns('__pycache__'))
    assert os.listdir(site) == ['mmssl_us']  # no tools/ beside it
    (base / 'cwd').mkdir()
    env = dict(os.environ, PYTHONPATH=str(site))
    return str(site), env, str(base / 'cwd')


@pytest.fixture(scope='module')
def fake_pretraining(tmp_path_factory):
    """A tiny DenseCL-like checkpoint: mmpretrain's ResNetV1c-18 under 'backbone.', a neck."""
    from mmpretrain.models.backbones import ResNetV1c
    torch.manual_seed(0)
    net = ResNetV1c(depth=18)
    state = {f'backbone.{k}': v for k, v in net.state_dict().items()}
    state['neck.mlp.weight'] = torch.zeros(8, 512)
    path = str(tmp_path_factory.mktemp('pretraining') / 'epoch_1.pth')
    torch.save({'state_dict': state, 'meta': {'epoch': 1, 'iter': 10}}, path)
    return path


def _python(args, env, cwd):
    out = subprocess.run([sys.executable, *args], env=env, cwd=cwd, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout


@pytest.mark.slow
def test_package_alone_converts_and_runs_a_study(standalone, fake_pretraining):
    site, env, cwd = standalone
    data = osp.join(cwd, 'data')
    os.makedirs(data, exist_ok=True)
    with open(osp.join(cwd, 'study.py'), 'w') as f:
        f.write(STUDY.format(data=data, config=osp.join(ROOT, 'configs', 'densecl', 'r50_knee.py')))
    with open(osp.join(cwd, 'script.py'), 'w') as f:
        f.write(SCRIPT)
    res = json.loads(_python(['script.py', site, fake_pretraining, 'study.py',
                              osp.join(ROOT, 'tests')], env,
                             cwd).strip().splitlines()[-1])
    assert res['outside'] == [], 'modules of mmssl_us loaded from outside the copy'
    # (a) the converter, with verification (keys, tensors, outputs against mmpretrain's net)
    assert 'dropped: neck' in res['convert']
    assert ('verified: loads into mmseg ResNetV1c(depth=18), 132 keys with 0 missing, '
            '0 unexpected, all tensors equal; 4 outputs equal on a fixed 1x3x64x64 input'
            ) in res['convert']
    meta = torch.load(osp.join(cwd, 'backbone.pth'), weights_only=True)['meta']
    assert meta['converter'] == 'mmssl_us.transfer' and meta['depth'] == 18
    # (c) the pretraining command: a fresh `python -m mmssl_us.launch train`, resumable,
    # with this copy of the package on its path, and nothing from tools/
    (call, ) = res['calls']
    cmd = call['cmd']
    assert cmd[:4] == [sys.executable, '-m', 'mmssl_us.launch', 'train'], cmd
    assert osp.join(cwd, cmd[4]) == osp.join(res['work'], 'pretrain', 'densecl_config.py')
    assert cmd[-2:] == ['--resume', 'auto']
    assert not any('tools' in part for part in cmd)
    assert call['pythonpath'].split(os.pathsep)[0] == site
    # (b) the real in-process conversion, verified, feeding the fine-tuning runs
    pretrain_dir = osp.join(res['work'], 'pretrain')
    assert osp.isfile(osp.join(pretrain_dir, 'densecl', 'final.pth'))
    assert osp.isfile(osp.join(pretrain_dir, 'densecl_backbone.pth'))
    assert any('verified: loads into mmseg ResNetV1c(depth=18)' in ln and 'outputs equal' in ln
               for ln in res['lines'])
    assert osp.isfile(osp.join(pretrain_dir, 'densecl_start_backbone.pth'))  # same-start arm
    assert any('run 9/9' in ln for ln in res['lines'])
    assert osp.isfile(osp.join(res['work'], 'results.md'))
