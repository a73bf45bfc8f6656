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


@pytest.mark.slow
def test_import_mmssl_us_is_cheap():
    mods = _modules_after('import mmssl_us')
    assert not mods & {'torch', 'mmcv', 'mmengine', 'mmseg', 'mmpretrain', 'cv2', 'numpy'}


@pytest.mark.slow
def test_pretrain_never_imports_mmseg():
    mods = _modules_after('import mmssl_us.pretrain')
    assert 'mmpretrain' in mods and 'mmseg' not in mods


@pytest.mark.slow
def test_seg_never_imports_mmpretrain():
    mods = _modules_after('import mmssl_us.seg')
    assert 'mmseg' in mods and 'mmpretrain' not in mods


@pytest.mark.slow
def test_transforms_and_synthetic_import_no_host():
    mods = _modules_after('import mmssl_us.transforms, mmssl_us.synthetic')
    assert not mods & {'mmseg', 'mmpretrain'}


HOSTS = {'mmseg', 'mmpretrain'}
HOSTS_AND_TORCH = HOSTS | {'torch', 'mmengine', 'mmcv'}


@pytest.mark.parametrize('module, banned', [
    ('mmssl_us.data', HOSTS_AND_TORCH),
    ('mmssl_us.data.converters', HOSTS_AND_TORCH),
    ('mmssl_us.data.fractions', HOSTS_AND_TORCH),
    ('mmssl_us.data.splits', HOSTS_AND_TORCH),
    ('mmssl_us.data.media', HOSTS_AND_TORCH),
    ('mmssl_us.data.exclusion', HOSTS_AND_TORCH),
    ('mmssl_us.data.hc18_csv', HOSTS_AND_TORCH),
    ('mmssl_us.data.leakage', HOSTS_AND_TORCH),
    ('mmssl_us.data.pool', HOSTS_AND_TORCH),
    ('mmssl_us.data.layout', HOSTS_AND_TORCH),
    ('mmssl_us.synthetic', HOSTS_AND_TORCH),  # numpy and cv2 only (docs/CONTRACTS.md)
    ('mmssl_us.volume', HOSTS_AND_TORCH | {'nnunetv2', 'numpy'}),  # the 3D path: cheap
    ('mmssl_us.volume.synthetic', HOSTS_AND_TORCH | {'nnunetv2'}),
    ('mmssl_us.volume.convert', HOSTS_AND_TORCH | {'nnunetv2'}),
    ('mmssl_us.volume.nnunet', HOSTS | {'nnunetv2'}),  # nnU-Net only when called
    ('mmssl_us.volume.pretrain', HOSTS | {'nnunetv2'}),
    ('mmssl_us.transfer.keys', HOSTS),
    ('mmssl_us.transfer', HOSTS | {'mmdet'}),  # hosts only when a verification builds one
    ('mmssl_us.transfer.init', HOSTS | {'mmdet'}),  # VerifiedPretrained, for every host
    ('mmssl_us.validate', HOSTS_AND_TORCH | {'numpy', 'cv2'}),
    ('mmssl_us.fileio', HOSTS_AND_TORCH | {'numpy', 'cv2'}),
    ('mmssl_us.records', HOSTS_AND_TORCH | {'numpy', 'cv2'}),
    ('mmssl_us.engine', HOSTS),  # a hook and an optim wrapper, in mmengine's root registries
])
@pytest.mark.slow
def test_host_free_module_imports_no_host(module, banned):
    """Each host-free module alone, in a fresh interpreter, loads no host library."""
    mods = _modules_after(f'import {module}')
    assert 'mmssl_us' in mods and not mods & banned, sorted(mods & banned)


@pytest.mark.slow
def test_study_imports_no_host():
    mods = _modules_after('import mmssl_us.study.runner, mmssl_us.study.report, '
                          'mmssl_us.study.stats, mmssl_us.study.tsne, mmssl_us.study.features, '
                          'mmssl_us.study.results')
    assert not mods & {'mmseg', 'mmpretrain'}


ROOT_TRANSFORMS = {'SpeckleNoise', 'DepthAttenuation', 'TGCCurve', 'AcousticShadow',
                   'LogCompression', 'GainChange', 'AnisotropicPSFBlur', 'SectorRandomResizedCrop'}


@pytest.mark.parametrize('imports, scope, names', [
    ('mmssl_us.pretrain', 'mmpretrain', dict(
        MODELS={'UltrasoundDenseCL', 'UltrasoundMoCo', 'SplitBatchNorm2d'},
        DATASETS={'UltrasoundUnlabelledDataset'}, HOOKS={'NegativeQueueHook'},
        TRANSFORMS={'LoadUltrasoundFrame', 'RepeatGreyChannels'})),
    ('mmssl_us.seg', 'mmseg', dict(
        DATASETS={'KneeRecessDataset', 'HC18Dataset', 'EchoNetDynamicDataset', 'CAMUSDataset',
                  'UltrasoundFolderDataset'},
        HOOKS={'LabelFractionHook'}, METRICS={'HeadCircumferenceMetric'})),
], ids=['pretrain', 'seg'])
@pytest.mark.slow
def test_custom_imports_register_from_any_folder(tmp_path, imports, scope, names):
    """A config's custom_imports, whatever the working directory, registers our components
    into its host, brings the ultrasound transforms (root registry) and safe checkpoint loading
    along, and never imports the other host (docs/CONTRACTS.md)."""
    cfg = tmp_path / 'c.py'
    cfg.write_text(f'custom_imports = dict(imports=[{imports!r}], allow_failed_imports=False)\n'
                   f'default_scope = {scope!r}\n')
    code = (
        'import json, sys, torch; from mmengine.config import Config; '
        'from mmengine.logging import HistoryBuffer; '
        f'from mmengine.registry import TRANSFORMS; Config.fromfile({str(cfg)!r}); '
        f'import {scope}.registry as r; '
        'print(json.dumps(dict('
        f'registered={{k: sorted(getattr(r, k).module_dict) for k in {sorted(names)!r}}}, '
        'root_transforms=sorted(TRANSFORMS.module_dict), '
        'hosts=sorted({m.split(".")[0] for m in sys.modules} & {"mmseg", "mmpretrain"}), '
        'safe_loading=HistoryBuffer in torch.serialization.get_safe_globals())))')
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                         cwd=str(tmp_path), timeout=180)
    assert out.returncode == 0, out.stderr[-3000:]
    found = json.loads(out.stdout.strip().splitlines()[-1])
    for registry, expected in names.items():
        assert expected <= set(found['registered'][registry]), (registry, expected)
    assert ROOT_TRANSFORMS <= set(found['root_transforms'])
    assert found['hosts'] == [scope]  # the other host never came along
    assert found['safe_loading']  # mmssl_us.checkpoint.install() ran


@pytest.mark.parametrize('imports, scope', [('mmssl_us.pretrain', 'mmpretrain'),
                                            ('mmssl_us.seg', 'mmseg')])
def test_plain_checkpoint_hook_is_found_by_both_hosts(imports, scope):
    """PlainCheckpointHook sits in mmengine's root HOOKS: each host's registry (a child of the
    root) finds it by name, so pretraining and fine-tuning configs both build it."""
    code = (f'import {imports}; import {scope}.registry as r; '
            'from mmengine.registry import HOOKS; '
            'cls = r.HOOKS.get("PlainCheckpointHook"); '
            'print(cls.__module__, "PlainCheckpointHook" in HOOKS.module_dict, '
            '"PlainCheckpointHook" in r.HOOKS.module_dict)')
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                         cwd=ROOT, timeout=180)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.split()[-3:] == ['mmssl_us.engine.plain_checkpoint', 'True', 'False']
