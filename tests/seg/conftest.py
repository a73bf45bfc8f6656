"""Fixtures of the segmentation tests."""
import pytest

from ._helpers import write_seg_tree


@pytest.fixture
def knee_root(tmp_path) -> str:
    """A knee-layout folder: 6 train patients (2 frames each), 2 val, 2 test."""
    root = str(tmp_path / 'knee')
    write_seg_tree(root, {'train': [f'p{i:02d}' for i in range(6)],
                          'val': ['v00', 'v01'], 'test': ['t00', 't01']})
    return root


@pytest.fixture(autouse=True)
def mmseg_scope():
    """Each seg test runs in the mmseg default scope, as under a Runner built from our configs,
    and leaves the process-wide scope as it found it (tests of other hosts share the process)."""
    from mmengine.registry import DefaultScope
    with DefaultScope.overwrite_default_scope('mmseg'):
        yield
