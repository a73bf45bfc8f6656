"""Import cost and host separation: checked in fresh interpreters (sys.modules is global)."""
import json
import os.path as osp
import subprocess
import sys

import pytest

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


def _modules_after(stmt: str) -> set:
    code = (f'import sys, json; {stmt}; '
            'print(json.dumps(sorted({m.split(".")[0] for m in sys.modules})))')
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                         cwd=ROOT, timeout=180)
    assert out.returncode == 0, out.stderr[-3000:]
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def test_import_mmssl_us_is_cheap():
    mods = _modules_after('import mmssl_us')
    assert not mods & {'torch', 'mmcv', 'mmengine', 'mmseg', 'mmpretrain', 'cv2', 'numpy'}


def test_pretrain_never_imports_mmseg():
    mods = _modules_after('import mmssl_us.pretrain')
    assert 'mmpretrain' in mods and 'mmseg' not in mods


def test_seg_never_imports_mmpretrain():
    mods = _modules_after('import mmssl_us.seg')
    assert 'mmseg' in mods and 'mmpretrain' not in mods


def test_transforms_and_synthetic_import_no_host():
    mods = _modules_after('import mmssl_us.transforms, mmssl_us.synthetic')
    assert not mods & {'mmseg', 'mmpretrain'}


def test_study_imports_no_host():
    mods = _modules_after('import mmssl_us.study.runner, mmssl_us.study.report, '
                          'mmssl_us.study.stats, mmssl_us.study.tsne, mmssl_us.study.features, '
                          'mmssl_us.study.results')
    assert not mods & {'mmseg', 'mmpretrain'}


@pytest.mark.parametrize('imports, scope, registry, names', [
    ('mmssl_us.pretrain', 'mmpretrain', 'mmpretrain.registry', None),
    ('mmssl_us.seg', 'mmseg', 'mmseg.registry', None),
])
def test_custom_imports_register_from_any_folder(tmp_path, imports, scope, registry, names):
    """A config's custom_imports registers our components, whatever the working directory."""
    cfg = tmp_path / 'c.py'
    cfg.write_text(f'custom_imports = dict(imports=[{imports!r}], allow_failed_imports=False)\n'
                   f'default_scope = {scope!r}\n')
    code = (
        'import json; from mmengine.config import Config; '
        f'from mmengine.registry import TRANSFORMS; Config.fromfile({str(cfg)!r}); '
        f'import {registry} as r; '
        'print(json.dumps({"models": sorted(r.MODELS.module_dict), '
        '"datasets": sorted(r.DATASETS.module_dict), '
        '"root_transforms": sorted(TRANSFORMS.module_dict)}))')
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                         cwd=str(tmp_path), timeout=180)
    assert out.returncode == 0, out.stderr[-3000:]
    reg = json.loads(out.stdout.strip().splitlines()[-1])
    assert 'SpeckleNoise' in reg['root_transforms']
    assert 'SectorRandomResizedCrop' in reg['root_transforms']
    if scope == 'mmpretrain':
        assert 'UltrasoundUnlabelledDataset' in reg['datasets']
    else:
        assert {'KneeRecessDataset', 'HC18Dataset', 'EchoNetDynamicDataset', 'CAMUSDataset',
                'UltrasoundFolderDataset'} <= set(reg['datasets'])
