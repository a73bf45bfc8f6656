"""The one key/shape comparison (KeyReport), checkpoint unwrapping, and a torch-free keys module
(tests/test_import.py checks that mmssl_us.transfer imports no host)."""
import os.path as osp
import subprocess
import sys
from collections import namedtuple

import pytest

from mmssl_us.transfer import compare_keys, resolve_source, unwrap_state_dict

T = namedtuple('T', 'shape')  # anything with a shape will do: the comparison needs no torch


def test_compare_keys_groups_and_order():
    model = {'a.w': T((2, 3)), 'b.w': T((4, )), 'c.w': T((1, )), 'head.w': T((5, )),
             'd.w': T((3, 3))}
    ckpt = {'x.w': T((1, )), 'd.w': T((3, 1)), 'a.w': T((2, 3)), 'y.w': T((2, ))}
    report = compare_keys(model, ckpt, allowed_missing=['head.*'])
    assert report.missing == ['b.w', 'c.w']  # model order
    assert report.allowed_missing == ['head.w']
    assert report.unexpected == ['x.w', 'y.w']  # checkpoint order
    assert report.shapes == {'d.w': ((3, 1), (3, 3))} and report.shape == ['d.w']
    assert report.matched == 1 and not report.ok
    assert report.message() == ('2 missing: b.w, c.w; 2 unexpected: x.w, y.w; '
                                '1 shape: d.w: checkpoint (3, 1) vs model (3, 3)')
    assert report.message(limit=1).startswith('2 missing: b.w, ... (1 more); ')
    assert report.counts() == ("2 missing ['b.w', 'c.w'], 2 unexpected ['x.w', 'y.w'], "
                               "1 mis-shaped ['d.w']")
    exact = compare_keys(model, dict(model))
    assert exact.ok and exact.matched == 5 and exact.message() == ''


def test_unwrap_state_dict():
    assert list(unwrap_state_dict({'state_dict': {'module.a': 1, 'b': 2}, 'meta': {}})) == [
        'a', 'b']
    assert list(unwrap_state_dict({'module.backbone.x': 1})) == ['backbone.x']


def test_resolve_source(tmp_path):
    work = tmp_path / 'run'
    work.mkdir()
    with pytest.raises(FileNotFoundError, match='without a last_checkpoint'):
        resolve_source(str(work))
    (work / 'epoch_3.pth').write_bytes(b'')
    # a path relative to another working directory: the file of that name in the work dir
    (work / 'last_checkpoint').write_text('work_dirs/run/epoch_3.pth\n')
    assert resolve_source(str(work)) == osp.join(str(work), 'epoch_3.pth')
    assert resolve_source(str(work / 'epoch_3.pth')) == str(work / 'epoch_3.pth')
    with pytest.raises(FileNotFoundError, match='checkpoint not found'):
        resolve_source(str(work / 'nope.pth'))


@pytest.mark.slow
def test_keys_module_needs_no_torch():
    import mmssl_us.transfer.keys as keys
    code = ('import importlib.util, sys\n'
            f'spec = importlib.util.spec_from_file_location("k", {keys.__file__!r})\n'
            'spec.loader.exec_module(importlib.util.module_from_spec(spec))\n'
            'assert "torch" not in sys.modules, "torch imported"\n')
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                         timeout=180)
    assert out.returncode == 0, out.stderr[-3000:]
