"""Config names that cannot collide, and fine-tuning configs that name the pretraining they load.

Pretraining configs follow mmpretrain's ``{algorithm}_{backbone}_{NxbM}-{schedule}_{data}.py``
(``configs/densecl/r50_knee.py`` keeps its short name: users type it). Every config that loads a
pretrained backbone (``VerifiedPretrained``) names a file in the work dir of a pretraining config
of this repository, of the method it says, so that ``tools/train.py <that config>`` and
``pretrain2seg.py <its work dir>`` write exactly the file it loads. Before this test the UNet
configs loaded ``work_dirs/byol_unet-s5_echonet/backbone.pth`` while the BYOL config trained in
``work_dirs/byol/byol_unet-s5_echonet``."""
import glob
import os.path as osp
import re

import pytest
from mmengine.config import Config

from mmssl_us.workdir import default_work_dir

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
PRETRAIN_FOLDERS = ('densecl', 'mocov2', 'simclr', 'byol', 'genesis')
USER_NAMES = {'densecl/r50_knee.py'}
NAME = re.compile(r'^(?P<algo>[a-z0-9]+)_[a-z0-9-]+_\d+xb\d+-[a-z0-9-]+-\d+e_[a-z0-9-]+\.py$')
#: model type of each pretraining folder's algorithm
METHODS = {'densecl': 'UltrasoundDenseCL', 'mocov2': 'UltrasoundMoCo', 'simclr': 'SimCLR',
           'byol': 'BYOL', 'genesis': 'ModelsGenesis'}


def _rel(path):
    return osp.relpath(path, osp.join(ROOT, 'configs'))


PRETRAIN = sorted(p for f in PRETRAIN_FOLDERS
                  for p in glob.glob(osp.join(ROOT, 'configs', f, '*.py')))
LOADERS = sorted(p for f in ('fcn', 'deeplabv3', 'unet', 'faster_rcnn', 'linear_probe')
                 for p in glob.glob(osp.join(ROOT, 'configs', f, '*.py')))


@pytest.mark.parametrize('path', PRETRAIN, ids=_rel)
def test_pretraining_config_names_follow_mmpretrain(path):
    rel = _rel(path)
    if rel in USER_NAMES:
        return
    m = NAME.match(osp.basename(path))
    assert m, f'{rel}: not {{algorithm}}_{{backbone}}_{{NxbM}}-{{schedule}}-{{E}}e_{{data}}.py'
    assert m['algo'] == osp.basename(osp.dirname(path)), rel


def _work_dirs():
    out = {}
    for path in PRETRAIN:
        cfg = Config.fromfile(path, import_custom_modules=False)
        work = osp.normpath(cfg.get('work_dir') or default_work_dir(path))
        assert work not in out, f'{_rel(path)} and {_rel(out[work][0])} share {work}'
        out[work] = (path, cfg.model.type)
    return out


def test_no_two_pretraining_configs_share_a_work_dir():
    assert len(_work_dirs()) == len(PRETRAIN)


def _verified_inits(node):
    if isinstance(node, dict):
        if node.get('type') == 'VerifiedPretrained':
            yield node
        for value in node.values():
            yield from _verified_inits(value)
    elif isinstance(node, (list, tuple)):
        for value in node:
            yield from _verified_inits(value)


@pytest.mark.parametrize('path', LOADERS, ids=_rel)
def test_pretrained_checkpoint_lies_in_a_pretraining_work_dir(path):
    cfg = Config.fromfile(path, import_custom_modules=False)
    inits = list(_verified_inits(cfg.to_dict()))
    if not inits:
        return  # random or ImageNet init
    works = _work_dirs()
    for init in inits:
        folder = osp.normpath(osp.dirname(init['checkpoint']))
        assert folder in works, (f'{_rel(path)} loads {init["checkpoint"]}, which no pretraining '
                                 f'config writes; work dirs: {sorted(works)}')
        source, model = works[folder]
        if init.get('method'):
            assert init['method'] == model, (_rel(path), _rel(source))
        # the pretraining the name says: "-byol" loads BYOL, "-densecl" DenseCL
        named = [m for m in METHODS if f'-{m}' in osp.basename(path)]
        if named:
            assert METHODS[named[0]] == model, (_rel(path), _rel(source), model)


def test_the_check_refuses_a_checkpoint_no_config_writes(tmp_path):
    bad = tmp_path / 'fcn_bad.py'
    bad.write_text("model = dict(backbone=dict(init_cfg=dict(type='VerifiedPretrained', "
                   "checkpoint='work_dirs/byol_unet-s5_echonet/backbone.pth')))\n")
    with pytest.raises(AssertionError, match='which no pretraining config writes'):
        test_pretrained_checkpoint_lies_in_a_pretraining_work_dir(str(bad))
