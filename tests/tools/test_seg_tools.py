"""tools/train.py -> tools/test.py -> tools/dist_test.py (2 CPU processes, gloo) on a tiny FCN."""
import json
import os
import os.path as osp
import subprocess
import sys

import pytest
from mmengine.config import Config

from mmssl_us.seg.config_utils import format_cfg_options, seg_cfg_options
from mmssl_us.synthetic.writer import write_knee_dataset

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(ROOT, 'configs', 'fcn', 'fcn_r50-d8-random_1xb16-40k_knee-256x256.py')


def _options(data_root):
    cfg = Config.fromfile(CONFIG)
    opts = seg_cfg_options(cfg, crop_size=32, img_scale=48, max_iters=2, val_interval=2,
                           batch_size=2, depth=18, head_channels=8, num_workers=0)
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        opts[f'{loader}.dataset.data_root'] = data_root
    return format_cfg_options(opts)


def _run(args, timeout=300):
    env = dict(os.environ, PORT='29517', OMP_NUM_THREADS='1')
    out = subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env,
                         timeout=timeout)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-4000:]
    return out


@pytest.mark.slow
def test_train_then_test_then_dist_test_agree(tmp_path):
    data = str(tmp_path / 'knee')
    write_knee_dataset(data, n_patients=8, frames_per_patient=2, n_unlabelled=0, size=48,
                       seed=3, progress_every=10**6)  # seed 3: the recess in every split
    opts = _options(data)
    work = str(tmp_path / 'work')
    _run([osp.join(ROOT, 'tools', 'train.py'), CONFIG, '--work-dir', work, '--cfg-options',
          *opts])
    ckpt = osp.join(work, 'iter_2.pth')
    assert osp.isfile(ckpt)

    # issue 18: evaluating never writes into the training run (its saved config, its logs)
    saved = osp.join(work, osp.basename(CONFIG))
    with open(saved, 'rb') as f:
        saved_before = f.read()
    listing = sorted(os.listdir(work))
    refused = subprocess.run([sys.executable, osp.join(ROOT, 'tools', 'test.py'), saved, ckpt,
                              '--work-dir', work], capture_output=True, text=True, timeout=120)
    assert refused.returncode == 2 and "is a training run's folder" in refused.stderr
    evals = str(tmp_path / 'eval')
    single = str(tmp_path / 'single.json')
    _run([osp.join(ROOT, 'tools', 'test.py'), saved, ckpt, '--work-dir', evals, '--out', single,
          '--cfg-options', *opts])
    with open(saved, 'rb') as f:
        assert f.read() == saved_before
    assert sorted(os.listdir(work)) == listing
    with open(single) as f:
        m1 = json.load(f)
    assert {'aAcc', 'mIoU', 'mDice'} <= set(m1)

    dist = str(tmp_path / 'dist.json')
    _run([osp.join(ROOT, 'tools', 'dist_test.py'), CONFIG, ckpt, '2', '--work-dir', evals,
          '--out', dist, '--cfg-options', *opts])
    with open(dist) as f:
        m2 = json.load(f)
    for key in ('aAcc', 'mIoU', 'mDice'):
        assert m2[key] == pytest.approx(m1[key], abs=1e-6), key


@pytest.mark.slow
def test_a_checkpoint_that_does_not_fit_is_not_evaluated(tmp_path):
    """Issue 10, case 2: tools/test.py with a backbone-only file exited 0 with the metrics of
    random weights. Now it stops with the counts and first keys; --partial-load opts in."""
    import torch
    from mmpretrain.models.backbones import ResNetV1c

    from mmssl_us.launch import run_test
    data = str(tmp_path / 'knee')
    write_knee_dataset(data, n_patients=8, frames_per_patient=2, n_unlabelled=0, size=48,
                       seed=3, progress_every=10**6)  # seed 3: the recess in every split
    backbone = str(tmp_path / 'backbone.pth')
    torch.save({'state_dict': ResNetV1c(depth=18).state_dict()}, backbone)
    args = [CONFIG, backbone, '--work-dir', str(tmp_path / 'w'), '--cfg-options',
            *_options(data)]
    with pytest.raises(ValueError, match=r'backbone\.pth does not fit the model.*missing'):
        run_test(args)
    metrics = run_test(args + ['--partial-load'])
    assert 'mIoU' in metrics


@pytest.mark.slow
def test_pretrained_init_that_does_not_fit_stops_training(tmp_path):
    """Issue 10, case 2: init_cfg=Pretrained of a checkpoint named for another library loaded
    nothing of the stem (a warning) and trained from random weights. tools/train.py now loads
    it as VerifiedPretrained: it stops with the counts and the first keys; a classifier's keys
    may be left over; --partial-load keeps mmengine's lenient load."""
    import torch
    from mmpretrain.models.backbones import ResNetV1c as PretrainResNet
    from mmseg.models.backbones import ResNetV1c as SegResNet

    from mmssl_us.launch import build_train_cfg
    from mmssl_us.train import train as train_from_cfg
    from mmssl_us.transfer.init import CheckpointKeyError
    data = str(tmp_path / 'knee')
    write_knee_dataset(data, n_patients=8, frames_per_patient=2, n_unlabelled=0, size=48,
                       seed=3, progress_every=10**6)  # seed 3: the recess in every split
    foreign = str(tmp_path / 'mmpretrain_named.pth')  # stem.0.conv.* instead of stem.0.*
    torch.save({'state_dict': PretrainResNet(depth=18).state_dict()}, foreign)
    fitting = str(tmp_path / 'imagenet_like.pth')  # mmseg names plus a classifier
    state = SegResNet(depth=18).state_dict()
    state.update({'fc.weight': torch.zeros(10, 512), 'fc.bias': torch.zeros(10)})
    torch.save({'state_dict': state}, fitting)

    def cfg_for(ckpt, *extra):
        return build_train_cfg([
            CONFIG, '--work-dir', str(tmp_path / ('w_' + osp.basename(ckpt) + str(len(extra)))),
            *extra, '--cfg-options',
            *_options(data), f'model.backbone.init_cfg.checkpoint={ckpt}',
            'model.backbone.init_cfg.type=Pretrained', 'train_cfg.max_iters=1',
            'train_cfg.val_interval=1', 'log_level=WARNING'])

    with pytest.raises(CheckpointKeyError, match=r'mmpretrain_named\.pth.* missing: stem\.0'):
        train_from_cfg(cfg_for(foreign))
    train_from_cfg(cfg_for(fitting))  # fc.* of a classification checkpoint is fine
    train_from_cfg(cfg_for(foreign, '--partial-load'))  # the user's explicit choice


def test_strict_pretrained_inits_rewrites_every_pretrained():
    from mmssl_us.transfer.init import strict_pretrained_inits
    model = dict(type='EncoderDecoder', pretrained='open-mmlab://resnet50_v1c',
                 backbone=dict(type='ResNetV1c'),
                 decode_head=dict(init_cfg=[dict(type='Normal', std=0.01),
                                            dict(type='Pretrained', checkpoint='h.pth',
                                                 prefix='head.')]))
    changed = strict_pretrained_inits(model)
    assert changed == ['model.pretrained', 'model.decode_head.init_cfg.1']
    assert model['pretrained'] is None
    assert model['backbone']['init_cfg']['type'] == 'VerifiedPretrained'
    assert model['backbone']['init_cfg']['checkpoint'] == 'open-mmlab://resnet50_v1c'
    assert model['decode_head']['init_cfg'][1] == dict(
        type='VerifiedPretrained', checkpoint='h.pth', prefix='head.',
        allowed_unexpected=['fc.*', 'head.*', 'classifier.*'])
    # a classifier's `pretrained` is the whole model's, not the backbone's: left alone
    clf = dict(type='ImageClassifier', pretrained='x.pth', backbone=dict(type='ResNet'))
    assert strict_pretrained_inits(clf) == [] and clf['pretrained'] == 'x.pth'
