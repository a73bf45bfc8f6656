"""Import rules of docs/CONTRACTS.md: mmssl_us.pretrain registers into mmpretrain, brings the
ultrasound transforms and safe loading with it, and never imports mmsegmentation."""
import subprocess
import sys

CHECK = r'''
import sys
import torch
import mmssl_us.pretrain
import mmssl_us.pretrain.convert
from mmengine.registry import TRANSFORMS as ROOT_TRANSFORMS
from mmpretrain.registry import DATASETS, HOOKS, MODELS, TRANSFORMS
assert not [m for m in sys.modules if m == 'mmseg' or m.startswith('mmseg.')], 'mmseg imported'
for name in ('UltrasoundDenseCL', 'UltrasoundMoCo', 'SplitBatchNorm2d'):
    assert MODELS.get(name) is not None, name
assert DATASETS.get('UltrasoundUnlabelledDataset') is not None
assert HOOKS.get('NegativeQueueHook') is not None
assert TRANSFORMS.get('LoadUltrasoundFrame') is not None
assert ROOT_TRANSFORMS.get('SpeckleNoise') is not None  # mmssl_us.transforms came along
from mmengine.logging import HistoryBuffer
assert HistoryBuffer in torch.serialization.get_safe_globals()  # checkpoint.install() ran
print('ok')
'''


def test_pretrain_package_never_imports_mmseg():
    out = subprocess.run([sys.executable, '-c', CHECK], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().endswith('ok')
