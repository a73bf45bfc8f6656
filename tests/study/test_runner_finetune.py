"""finetune_once for real (tiny FCN R18 on tiny synthetic knee data), twice in one process."""
import glob
import json
import math
import os.path as osp
import subprocess
import sys

import pytest
import torch

from mmssl_us.study.runner import RunKey, finetune_once
from mmssl_us.synthetic.writer import write_knee_dataset

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SPEC = dict(
    config=osp.join(ROOT, 'configs', 'fcn', 'fcn_r50-d8-random_1xb16-40k_knee-256x256.py'),
    shrink=dict(crop_size=32, img_scale=48, max_iters=4, val_interval=2, batch_size=2, depth=18,
                head_channels=8, num_workers=0),
    # lr as in the quickstart: 4 iterations at mmseg's 0.01 barely move the loss
    cfg_options={'log_level': 'WARNING', 'default_hooks.checkpoint.save_last': False,
                 'default_hooks.checkpoint.interval': 1000, 'optim_wrapper.optimizer.lr': 0.05,
                 'default_hooks.logger.interval': 1})
CHANCE_LOSS = math.log(2) * (1 + 0.4)  # 2 classes, decode head + auxiliary head (weight 0.4)


def _train_losses(scalars_json):
    with open(scalars_json) as f:
        return [r['loss'] for r in map(json.loads, f) if 'loss' in r]


@pytest.fixture(scope='module')
def knee(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('knee'))
    # seed 3: every split shows the recess (a split without it is refused at build)
    write_knee_dataset(root, n_patients=8, frames_per_patient=2, n_unlabelled=0, size=48,
                       seed=3, progress_every=10**6)
    return root


def _backbone_ckpt(path):
    from mmseg.models.backbones import ResNetV1c
    torch.manual_seed(0)
    net = ResNetV1c(depth=18, dilations=(1, 1, 2, 4), strides=(1, 2, 1, 1))
    torch.save({'state_dict': net.state_dict()}, path)
    return net.state_dict()


@pytest.mark.slow
def test_two_runs_in_one_process_keep_their_own_logs(knee, tmp_path):
    ckpt = str(tmp_path / 'backbone.pth')
    _backbone_ckpt(ckpt)
    rows = []
    for key, backbone in ((RunKey('densecl', 0.5, 0), ckpt), (RunKey('random', 0.5, 0), None)):
        run_dir = str(tmp_path / key.init)
        rows.append(finetune_once(key, SPEC, backbone, run_dir, knee))
        # the per-run files are in this run's folder, not in the first run's
        scalars = glob.glob(osp.join(run_dir, '*', 'vis_data', 'scalars.json'))
        assert len(scalars) == 1, scalars
        # it trained: from an untrained head at chance level, the loss fell (by about 0.075
        # over these 4 steps; a run that does not step stays at chance)
        losses = _train_losses(scalars[0])
        assert len(losses) == 4 and losses[0] == pytest.approx(CHANCE_LOSS, abs=0.05), losses
        assert losses[-1] < losses[0] - 0.03, losses
        with open(osp.join(run_dir, 'label_fraction_train.txt')) as f:
            assert '# fraction: 0.5' in f.read()
    for row in rows:
        assert 0 <= row['mIoU'] <= 100 and 0 <= row['mDice'] <= 100
        curve = json.loads(row['curve'])
        assert [it for it, _ in curve] == [2, 4]  # validation every 2 of 4 iterations


@pytest.mark.slow
def test_pretrained_run_refuses_a_mismatched_backbone(knee, tmp_path):
    ckpt = str(tmp_path / 'bad.pth')
    state = _backbone_ckpt(ckpt)
    state = {k.replace('stem.0.', 'stem.0.conv.'): v for k, v in state.items()}  # mmpretrain names
    torch.save({'state_dict': state}, ckpt)
    with pytest.raises(Exception, match='stem.0'):
        finetune_once(RunKey('densecl', 1.0, 0), SPEC, ckpt, str(tmp_path / 'w'), knee)


@pytest.mark.slow
def test_the_test_split_is_read_on_the_best_val_checkpoint(knee, tmp_path, monkeypatch):
    """With test = val and the last iterate spoilt (all foreground), the test mIoU equals the
    best val point, not the last one, and the row names the selected iteration."""
    monkeypatch.syspath_prepend(osp.join(ROOT, 'tests', '_toy'))
    import spoil_last  # noqa: F401  (registers SpoilLastIterHook)
    spec = dict(SPEC, shrink=dict(SPEC['shrink'], max_iters=4, val_interval=1),
                cfg_options=dict(
                    SPEC['cfg_options'],
                    **{'model.decode_head.loss_decode.class_weight': [1.0, 5.0],
                       'custom_hooks': [dict(type='LabelFractionHook'),
                                        dict(type='SpoilLastIterHook')],
                       'test_dataloader.dataset.data_prefix': dict(
                           img_path='images/val', seg_map_path='masks/val')}))
    row = finetune_once(RunKey('random', 1.0, 0), spec, None, str(tmp_path / 'r'), knee)
    curve = json.loads(row['curve'])
    assert [it for it, _ in curve] == [1, 2, 3, 4]
    best = max(curve, key=lambda p: p[1])
    assert curve[-1][1] < best[1]  # the spoilt last iterate validates worse
    assert row['best_iter'] == best[0] < 4 and row['best_val'] == best[1]
    assert row['last_val'] == curve[-1][1]
    # evaluated on the best checkpoint: the test (= val images) mIoU is the best val point's
    assert row['mIoU'] == pytest.approx(best[1], abs=0.01)
    assert glob.glob(str(tmp_path / 'r' / f'best_mIoU_iter_{best[0]}.pth'))
    _loads_without_the_allow_list(str(tmp_path / 'r' / f'best_mIoU_iter_{best[0]}.pth'))
    assert row['max_iters'] == 4 and row['train_images'] > 0
    assert row['seconds_train'] > 0 and row['seconds_val'] > 0 and row['seconds_test'] > 0


def _loads_without_the_allow_list(ckpt):
    """The best checkpoint is plain data (PlainCheckpointHook): strict torch.load with
    weights_only=True in a fresh interpreter, mmssl_us and mmengine never imported (so no
    allow-list is installed), reads it whole."""
    code = ('import sys, torch\n'
            f'print(torch.serialization.get_unsafe_globals_in_checkpoint({ckpt!r}))\n'
            f'ck = torch.load({ckpt!r}, weights_only=True)\n'
            'assert not [m for m in sys.modules if m.startswith(("mmssl_us", "mmengine"))]\n'
            'print(sorted(ck), len(ck["state_dict"]), ck["meta"]["iter"])\n')
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                         timeout=180)
    assert out.returncode == 0, out.stderr[-3000:]
    unsafe, keys = out.stdout.splitlines()[:2]
    assert unsafe == '[]'
    # CheckpointHook's best checkpoint holds no optimizer / scheduler state
    assert keys.startswith("['message_hub', 'meta', 'state_dict']"), keys


@pytest.mark.slow
def test_the_row_holds_per_class_figures(knee, tmp_path):
    """The test's per-class IoU, Dice and predicted share reach the row (mmseg's IoUMetric
    returns means only); the "degenerate runs" gate reads them."""
    from mmssl_us.study.gates import degenerate_gate
    row = finetune_once(RunKey('random', 1.0, 0), SPEC, None, str(tmp_path / 'r'), knee)
    classes = [k[4:] for k in row if k.startswith('IoU.')]
    assert len(classes) == 2, row
    for c in classes:
        assert 0 <= row[f'Pred.{c}'] <= 100 and f'Dice.{c}' in row
    assert sum(row[f'Pred.{c}'] for c in classes) == pytest.approx(100, abs=0.01)
    ious = [row[f'IoU.{c}'] for c in classes if not math.isnan(row[f'IoU.{c}'])]
    assert row['mIoU'] == pytest.approx(sum(ious) / len(ious), abs=0.02)
    gate = degenerate_gate([dict(row, init='random', fraction=1.0, seed=0)])
    assert gate.passed is (min(ious) >= 1.0)


IMAGENET = osp.join(ROOT, 'configs', 'fcn', 'fcn_r50-d8-imagenet_1xb16-40k_knee-256x256.py')


def test_the_studys_backbone_replaces_an_imagenet_configs_pretrained(knee, tmp_path):
    """Issue 19: a study whose fine-tuning config carries ``pretrained=`` (the -imagenet_
    configs) kept it beside the study's backbone init_cfg, and mmseg's segmentor refused the
    pair (``assert not (init_cfg and pretrained)``). The study's init now replaces the
    config's: the model builds and its backbone holds the study's backbone file."""
    from mmengine.registry import DefaultScope
    from mmseg.registry import MODELS

    from mmssl_us.study.finetune import finetune_config
    ckpt = str(tmp_path / 'backbone.pth')
    state = _backbone_ckpt(ckpt)
    spec = dict(SPEC, config=IMAGENET)
    cfg = finetune_config(RunKey('densecl', 1.0, 0), spec, ckpt, str(tmp_path / 'w'), knee)
    assert cfg.model.pretrained is None
    assert cfg.model.backbone.init_cfg == dict(type='VerifiedPretrained', checkpoint=ckpt)
    with DefaultScope.overwrite_default_scope('mmseg'):
        model = MODELS.build(cfg.model)
    model.init_weights()
    for key, value in state.items():
        torch.testing.assert_close(model.backbone.state_dict()[key], value)
    random = finetune_config(RunKey('random', 1.0, 0), spec, None, str(tmp_path / 'r'), knee)
    assert random.model.pretrained is None and random.model.backbone.init_cfg is None


@pytest.mark.slow
def test_a_study_fine_tunes_an_imagenet_config_from_its_backbone(knee, tmp_path):
    """The same end to end: finetune_once (through mmssl_us.train) trains the -imagenet_
    config from the study's backbone instead of stopping on mmseg's assertion."""
    ckpt = str(tmp_path / 'backbone.pth')
    _backbone_ckpt(ckpt)
    row = finetune_once(RunKey('densecl', 1.0, 0), dict(SPEC, config=IMAGENET), ckpt,
                        str(tmp_path / 'w'), knee)
    assert row['best_iter'] in (2, 4) and 0 <= row['mIoU'] <= 100
    assert osp.isfile(osp.join(str(tmp_path / 'w'), 'run.json'))  # the driver claimed it


@pytest.mark.slow
def test_a_run_trains_under_bfloat16_cpu_autocast(knee, tmp_path, monkeypatch):
    """The study's fine-tuning with CPUAutocastOptimWrapper: the loss falls as in float32, the
    training forward passes ran in bfloat16, validation and test in float32."""
    from mmseg.models.decode_heads.decode_head import BaseDecodeHead
    seen = []
    cls_seg = BaseDecodeHead.cls_seg

    def spy(self, feat):
        out = cls_seg(self, feat)
        seen.append((self.training, out.dtype))
        return out
    monkeypatch.setattr(BaseDecodeHead, 'cls_seg', spy)
    spec = dict(SPEC, cfg_options=dict(SPEC['cfg_options'], **{
        'optim_wrapper.type': 'CPUAutocastOptimWrapper', 'optim_wrapper.dtype': 'bfloat16'}))
    run_dir = str(tmp_path / 'bf16')
    row = finetune_once(RunKey('random', 1.0, 0), spec, None, run_dir, knee)
    losses = _train_losses(glob.glob(osp.join(run_dir, '*', 'vis_data', 'scalars.json'))[0])
    assert len(losses) == 4 and losses[-1] < losses[0] - 0.03, losses
    assert {d for train, d in seen if train} == {torch.bfloat16}
    assert {d for train, d in seen if not train} == {torch.float32}
    assert 0 <= row['mIoU'] <= 100


@pytest.mark.slow
def test_a_study_fine_tunes_in_two_worker_processes(knee, tmp_path):
    """study.jobs=2 for real: the spawned workers build mmseg's runner on their own (the
    registries, the study's transforms and hooks) and train; this process records the rows."""
    from mmssl_us.study.results import read_results
    from mmssl_us.study.runner import run_study
    cfg = tmp_path / 'study.py'
    cfg.write_text('study = dict(data_root=%r, inits=["random"], fractions=[0.5, 1.0],\n'
                   '             seeds=[0], baseline="random", jobs=2, finetune=%r)\n'
                   % (knee, SPEC))
    lines = []
    work = str(tmp_path / 'study')
    run_study(str(cfg), work, log=lines.append)
    assert any('2 at a time, ' in ln for ln in lines)
    rows = read_results(osp.join(work, 'results.csv'))
    assert sorted(float(r['fraction']) for r in rows) == [0.5, 1.0]
    for row in rows:
        assert 0 <= row['mIoU'] <= 100
        assert [it for it, _ in row['curve']] == [2, 4]
        losses = _train_losses(glob.glob(osp.join(row['work_dir'], '*', 'vis_data',
                                                  'scalars.json'))[0])
        assert len(losses) == 4 and losses[-1] < losses[0] - 0.03, losses
