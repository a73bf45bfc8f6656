"""Every segmentation config parses, agrees with its dataset, builds and runs a tiny forward."""
import argparse
import glob
import math
import os.path as osp
import re

import pytest
import torch
from mmengine.config import Config, DictAction
from mmengine.model import revert_sync_batchnorm
from mmengine.registry import DefaultScope
from mmseg.registry import DATASETS, MODELS

import mmssl_us.seg  # noqa: F401
from mmssl_us.seg.config_utils import format_cfg_options, seg_cfg_options
from mmssl_us.workdir import default_work_dir

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = sorted(glob.glob(osp.join(ROOT, 'configs', d, '*.py'))
                 for d in ('fcn', 'unet', 'deeplabv3'))
CONFIGS = [p for group in CONFIGS for p in group]
NAME = re.compile(r'^(?P<model>[\w.-]+?)-(?P<init>densecl|simclr|byol|random|imagenet)_1xb16-40k_'
                  r'(?P<data>knee|echonet|camus|hc18|folder)-(?P<h>\d+)x(?P<w>\d+)\.py$')
IMAGENET_MEAN = [123.675, 116.28, 103.53]


def test_the_expected_configs_exist():
    names = {osp.basename(p) for p in CONFIGS}
    for data in ('knee', 'echonet', 'camus', 'hc18'):
        for init in ('densecl', 'random', 'imagenet'):
            assert any(n.startswith(f'fcn_r50-d8-{init}_') and f'_{data}-' in n for n in names)
    for data in ('echonet', 'camus'):
        assert any(n.startswith('unet-s5-d16') and f'_{data}-' in n for n in names)
        assert any(n.startswith('deeplabv3_r50-d8') and f'_{data}-' in n for n in names)


def _shrink(cfg):
    if cfg.model.backbone.type == 'UNet':
        cfg.model.backbone.base_channels = 8
        cfg.model.decode_head.update(in_channels=8, channels=8)
        cfg.model.auxiliary_head.update(in_channels=16, channels=8)
    else:
        cfg.merge_from_dict(seg_cfg_options(cfg, depth=18, head_channels=8))


@pytest.mark.parametrize('path', CONFIGS, ids=osp.basename)
def test_config(path):
    m = NAME.match(osp.basename(path))
    assert m, f'config name does not follow the pattern: {osp.basename(path)}'
    cfg = Config.fromfile(path)
    bases = [glob.glob(osp.join(ROOT, 'configs', '_base_', d, '*.py'))
             for d in ('models', 'datasets', 'schedules')]
    for base in [path] + [b for group in bases for b in group]:
        assert not re.search(r"['\"][\w.-]+::", open(base).read()), \
            f'{base} inherits a host config by package'
    assert cfg.default_scope == 'mmseg'
    assert cfg.custom_imports == dict(imports=['mmssl_us.seg'], allow_failed_imports=False)
    assert [h.type for h in cfg.custom_hooks] == ['LabelFractionHook']
    # data: root, splits, fraction on train only, evaluation metrics
    data = m.group('data')
    train, val, test = (cfg[k].dataset for k in ('train_dataloader', 'val_dataloader',
                                                  'test_dataloader'))
    assert train.data_root == val.data_root == test.data_root == f'data/{data}'
    assert (train.data_prefix.img_path, val.data_prefix.img_path, test.data_prefix.img_path) == \
        ('images/train', 'images/val', 'images/test')
    assert train.label_fraction == 1.0 and train.fraction_seed == 0
    assert val.test_mode and test.test_mode and 'label_fraction' not in test
    evaluators = cfg.val_evaluator if isinstance(cfg.val_evaluator, list) else [cfg.val_evaluator]
    assert evaluators[0].type == 'IoUMetric' and evaluators[0].iou_metrics == ['mIoU', 'mDice']
    if data == 'hc18':
        assert evaluators[1].type == 'HeadCircumferenceMetric'
        assert 'pixel_size_mm' in test.pipeline[-1].meta_keys
    assert cfg.train_dataloader.batch_size == 16 and cfg.train_cfg.max_iters == 40000
    # the model agrees with the dataset and the name
    # a folder dataset's classes come from the config (a folder study sets them)
    classes = ((train.get('metainfo') or {}).get('classes')
               or DATASETS.get(train.type).METAINFO['classes'])
    assert val.get('metainfo') == train.get('metainfo') == test.get('metainfo')
    assert cfg.model.decode_head.num_classes == cfg.model.auxiliary_head.num_classes == \
        len(classes)
    crop = (int(m.group('h')), int(m.group('w')))
    assert tuple(cfg.model.data_preprocessor.size) == crop
    assert [tuple(t.crop_size) for t in train.pipeline if t.type == 'RandomCrop'] == [crop]
    init, backbone = m.group('init'), cfg.model.backbone
    if backbone.type == 'UNet' and init != 'random':
        _check_pretrained_unet(cfg, init)
    elif init == 'densecl':
        assert backbone.init_cfg == dict(type='VerifiedPretrained',
                                         checkpoint='work_dirs/r50_knee/backbone.pth')
        # fine-tuning must normalise as the pretraining did (parsed without importing mmpretrain)
        pre = Config.fromfile(osp.join(ROOT, 'configs', 'densecl', 'r50_knee.py'),
                              import_custom_modules=False)
        pre_norm = pre.model.get('data_preprocessor') or pre.data_preprocessor
        assert (pre_norm.mean, pre_norm.std) == \
            (cfg.model.data_preprocessor.mean, cfg.model.data_preprocessor.std)
        assert (pre.model.backbone.type, pre.model.backbone.depth) == ('ResNetV1c', 50)
    elif init == 'random':
        assert cfg.model.pretrained is None and backbone.get('init_cfg') is None
        assert (cfg.model.data_preprocessor.mean, cfg.model.data_preprocessor.std) == \
            ([40.0] * 3, [44.0] * 3)  # as the DenseCL pretraining normalises
    else:
        assert cfg.model.pretrained == 'open-mmlab://resnet50_v1c'
        assert cfg.model.data_preprocessor.mean == IMAGENET_MEAN
    if backbone.type != 'UNet':
        assert (backbone.type, backbone.depth, tuple(backbone.dilations)) == \
            ('ResNetV1c', 50, (1, 1, 2, 4))
    # build a shrunk copy and run it on one small image
    _shrink(cfg)
    with DefaultScope.overwrite_default_scope('mmseg'):
        model = revert_sync_batchnorm(MODELS.build(cfg.model)).eval()
    with torch.no_grad():
        logits = model(torch.rand(1, 3, 64, 64) * 255, mode='tensor')
    assert logits.shape[:2] == (1, len(classes))


#: the UNet-encoder pretraining each pretrained UNet config loads
UNET_PRETRAINING = dict(
    densecl=('configs/densecl/densecl_unet-s5_1xb32-coslr-200e_echonet.py', 'UltrasoundDenseCL'),
    simclr=('configs/simclr/simclr_unet-s5_1xb32-coslr-200e_echonet.py', 'SimCLR'),
    byol=('configs/byol/byol_unet-s5_1xb32-coslr-200e_echonet.py', 'BYOL'))


def _check_pretrained_unet(cfg, init):
    """A pretrained UNet loads its pretraining's converted encoder (the decoder the only part
    allowed missing), has the encoder that pretraining built, and normalises as it did."""
    path, method = UNET_PRETRAINING[init]
    pre = Config.fromfile(osp.join(ROOT, path), import_custom_modules=False)
    # the work dir tools/train.py gives that pretraining (it was work_dirs/<name> here, where no
    # run writes: tests/test_config_names.py)
    work = pre.get('work_dir') or default_work_dir(path)
    assert cfg.model.backbone.init_cfg == dict(
        type='VerifiedPretrained', checkpoint=f'{work}/backbone.pth', method=method,
        allowed_missing=['decoder.*'])
    enc = pre.model.backbone
    assert enc.type == 'UNetEncoder'
    for key in ('in_channels', 'base_channels', 'num_stages'):
        assert enc[key] == cfg.model.backbone[key], key
    pre_norm = pre.model.get('data_preprocessor') or pre.data_preprocessor
    assert (pre_norm.mean, pre_norm.std) == \
        (cfg.model.data_preprocessor.mean, cfg.model.data_preprocessor.std)


def test_cfg_options_roundtrip_through_dictaction():
    path = osp.join(ROOT, 'configs', 'fcn', 'fcn_r50-d8-random_1xb16-40k_hc18-256x256.py')
    cfg = Config.fromfile(path)
    options = seg_cfg_options(cfg, crop_size=(96, 128), img_scale=200, max_iters=30,
                              val_interval=50, batch_size=2, depth=34, label_fraction=0.05,
                              fraction_seed=4, seed=9, num_workers=0)
    parser = argparse.ArgumentParser()
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    parsed = parser.parse_args(['--cfg-options', *format_cfg_options(options)]).cfg_options
    cfg.merge_from_dict(parsed)
    train = cfg.train_dataloader
    assert tuple(train.dataset.pipeline[3].crop_size) == (96, 128)
    assert tuple(cfg.model.data_preprocessor.size) == (96, 128)
    assert tuple(train.dataset.pipeline[2].scale) == (200, 200)
    assert tuple(cfg.test_dataloader.dataset.pipeline[1].scale) == (200, 200)
    assert (cfg.train_cfg.max_iters, cfg.train_cfg.val_interval,
            cfg.param_scheduler[0].end) == (30, 30, 30)
    assert (train.batch_size, train.num_workers, train.persistent_workers) == (2, 0, False)
    assert (cfg.model.backbone.depth, cfg.model.decode_head.in_channels,
            cfg.model.auxiliary_head.in_channels) == (34, 512, 256)
    assert (train.dataset.label_fraction, train.dataset.fraction_seed,
            cfg.randomness.seed) == (0.05, 4, 9)
    with pytest.raises(ValueError, match='crop_size'):
        seg_cfg_options(cfg, crop_size=(0, 3))
    unet = Config.fromfile(osp.join(ROOT, 'configs', 'unet',
                                    'unet-s5-d16_fcn-random_1xb16-40k_camus-256x256.py'))
    with pytest.raises(ValueError, match='UNet has no depth'):
        seg_cfg_options(unet, depth=18)


@pytest.mark.parametrize('data,hint', [
    ('knee', 'python tools/generate_synthetic.py --out data/knee'),
    ('echonet', 'tools/dataset_converters/echonet.py'),
    ('camus', 'tools/dataset_converters/camus.py'),
    ('hc18', 'tools/dataset_converters/hc18.py'),
])
def test_missing_data_root_explains(data, hint, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # data/<name> is relative to the working directory
    cfg = Config.fromfile(osp.join(ROOT, 'configs', '_base_', 'datasets', f'{data}.py'))
    with DefaultScope.overwrite_default_scope('mmseg'):
        with pytest.raises(FileNotFoundError, match=f"data root 'data/{data}' not found") as err:
            DATASETS.build(cfg.train_dataloader.dataset)
    assert hint in str(err.value)


def test_random_init_is_mmseg_resnet_default():
    """What the 'random' configs claim: Kaiming convs, BN 1/0, zero last BN of each block."""
    cfg = Config.fromfile(osp.join(ROOT, 'configs', 'fcn',
                                   'fcn_r50-d8-random_1xb16-40k_knee-256x256.py'))
    cfg.merge_from_dict(seg_cfg_options(cfg, head_channels=8))  # ResNet-50 kept
    cfg.model.backbone.norm_cfg = dict(type='BN', requires_grad=True)
    with DefaultScope.overwrite_default_scope('mmseg'):
        model = MODELS.build(cfg.model)
    model.init_weights()
    bb = model.backbone
    # mmengine's Kaiming default: normal, mode='fan_out', ReLU gain -> std = sqrt(2 / fan_out)
    # (large layers only: >= 500k weights keep the sampling error of the std below 0.2%)
    for conv in (bb.layer3[0].conv2, bb.layer4[2].conv3, bb.layer4[0].conv2):
        fan_out = conv.out_channels * conv.kernel_size[0] * conv.kernel_size[1]
        assert conv.weight.std().item() == pytest.approx(math.sqrt(2 / fan_out), rel=0.02)
        assert abs(conv.weight.mean().item()) < 0.02 * math.sqrt(2 / fan_out)
    blocks = [b for layer in (bb.layer1, bb.layer2, bb.layer3, bb.layer4) for b in layer]
    assert len(blocks) == 16
    for block in blocks:
        assert torch.all(block.norm3.weight == 0) and torch.all(block.norm3.bias == 0)
        assert torch.all(block.norm1.weight == 1) and torch.all(block.norm2.weight == 1)
    assert torch.all(bb.stem[1].weight == 1) and torch.all(bb.stem[1].bias == 0)


def test_warmup_then_the_configs_decay_and_eval_batch_size():
    """seg_cfg_options(warmup_iters=...) puts a LinearLR warm-up before the config's poly decay,
    which then begins where the warm-up ends and ends at max_iters; the lr follows it."""
    from mmengine.optim import build_optim_wrapper
    from mmengine.registry import PARAM_SCHEDULERS
    import torch
    path = osp.join(ROOT, 'configs', 'fcn', 'fcn_r50-d8-random_1xb16-40k_knee-256x256.py')
    cfg = Config.fromfile(path)
    cfg.merge_from_dict(seg_cfg_options(cfg, max_iters=100, warmup_iters=10,
                                        eval_batch_size=8))
    warm, poly = cfg.param_scheduler
    assert (warm.type, warm.begin, warm.end, warm.start_factor) == ('LinearLR', 0, 10, 0.1)
    assert (poly.type, poly.begin, poly.end) == ('PolyLR', 10, 100)
    assert cfg.val_dataloader.batch_size == cfg.test_dataloader.batch_size == 8
    assert cfg.train_dataloader.batch_size == 16  # training batch untouched
    net = torch.nn.Linear(2, 2)
    wrapper = build_optim_wrapper(net, cfg.optim_wrapper)
    scheds = [PARAM_SCHEDULERS.build(dict(s, optimizer=wrapper)) for s in cfg.param_scheduler]
    lrs = []
    for _ in range(100):
        lrs.append(wrapper.get_lr()['lr'][0])
        for s in scheds:
            s.step()
    assert lrs[0] == pytest.approx(0.001)  # 0.1 x 0.01
    assert max(lrs) == pytest.approx(0.01, rel=0.02) and lrs.index(max(lrs)) in (9, 10)
    assert lrs[-1] < 0.001 and all(a >= b for a, b in zip(lrs[10:], lrs[11:]))
    with pytest.raises(ValueError, match='warmup_iters'):
        seg_cfg_options(cfg, max_iters=10, warmup_iters=10)
    with pytest.raises(ValueError, match='already has a LinearLR'):
        seg_cfg_options(cfg, warmup_iters=5)


def _flat(node, prefix=''):
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            out.update(_flat(value, f'{prefix}.{key}' if prefix else key))
        return out
    if isinstance(node, (list, tuple)):
        out = {}
        for i, value in enumerate(node):
            out.update(_flat(value, f'{prefix}.{i}'))
        return out
    return {prefix: node}


SIBLINGS = [p for p in CONFIGS if re.search(r'-(densecl|imagenet)_', osp.basename(p))
            and osp.basename(osp.dirname(p)) in ('fcn', 'deeplabv3')]


@pytest.mark.parametrize('path', SIBLINGS, ids=osp.basename)
def test_a_pretrained_config_is_its_random_sibling_but_for_the_init(path):
    """Issue 19: the -densecl and -imagenet configs inherit their -random sibling and state only
    the init (and ImageNet's normalisation); everything else resolves the same."""
    sibling = re.sub(r'-(densecl|imagenet)_', '-random_', path)
    with open(path, encoding='utf-8') as f:
        assert f"_base_ = './{osp.basename(sibling)}'" in f.read()
    mine = _flat(Config.fromfile(path, import_custom_modules=False).to_dict())
    theirs = _flat(Config.fromfile(sibling, import_custom_modules=False).to_dict())
    differ = {k for k in set(mine) | set(theirs) if mine.get(k) != theirs.get(k)}
    if '-densecl_' in path:
        assert differ == {'model.backbone.init_cfg.type', 'model.backbone.init_cfg.checkpoint'}
        assert mine['model.backbone.init_cfg.type'] == 'VerifiedPretrained'
    else:
        norm = {f'{where}data_preprocessor.{k}.{i}' for where in ('', 'model.')
                for k in ('mean', 'std') for i in range(3)}
        assert differ == norm | {'model.pretrained'}
        assert mine['model.pretrained'] == 'open-mmlab://resnet50_v1c'
        assert [mine[f'model.data_preprocessor.mean.{i}'] for i in range(3)] == IMAGENET_MEAN
