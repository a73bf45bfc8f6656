"""Safe loading: mmengine checkpoints load with weights_only=True; hostile pickles do not run."""
import os

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer, MessageHub
from mmengine.runner import CheckpointLoader, load_checkpoint

from mmssl_us.checkpoint import UnsafeCheckpointError, install, safe_load

install()


class _RunsShell:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f'touch {self.marker}',))


class _WalksFromHistoryBuffer:
    """getattr(HistoryBuffer, '__init__') is the first step toward its module's globals."""

    def __reduce__(self):
        return (getattr, (HistoryBuffer, '__init__'))


def _mmengine_like_checkpoint(path):
    hub = MessageHub('ckpt_test_hub')
    hub.update_scalar('train/loss', 0.5)
    hub.update_scalar('train/loss', 0.25)
    hub.update_info('iter', 7)
    model = torch.nn.Linear(3, 2)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model(torch.randn(4, 3)).sum().backward()
    opt.step()
    ckpt = dict(meta=dict(iter=7, seed=np.int64(3), arr=np.arange(3, dtype=np.float32),
                          mmengine_version='0.10.7'),
                state_dict=model.state_dict(), optimizer=opt.state_dict(),
                message_hub=hub.state_dict())
    torch.save(ckpt, path)
    return ckpt


def test_mmengine_checkpoint_loads_safely(tmp_path):
    path = str(tmp_path / 'ok.pth')
    ref = _mmengine_like_checkpoint(path)
    # plain torch.load with the default (weights_only=True) works once installed
    got = torch.load(path, weights_only=True)
    buf = got['message_hub']['log_scalars']['train/loss']
    assert isinstance(buf, HistoryBuffer)
    assert buf.statistics('mean') == pytest.approx(0.375)
    assert buf.min() == pytest.approx(0.25)
    assert got['meta']['seed'] == 3
    np.testing.assert_array_equal(got['meta']['arr'], ref['meta']['arr'])
    for k, v in ref['state_dict'].items():
        torch.testing.assert_close(got['state_dict'][k], v)
    # and mmengine's own loader goes through the safe path
    got2 = CheckpointLoader.load_checkpoint(path, map_location='cpu')
    assert got2['meta']['iter'] == 7


@pytest.mark.parametrize('payload', ['shell', 'getattr'])
def test_hostile_checkpoint_refused_and_code_not_run(tmp_path, payload):
    marker = tmp_path / 'pwned'
    obj = _RunsShell(marker) if payload == 'shell' else _WalksFromHistoryBuffer()
    path = str(tmp_path / 'evil.pth')
    torch.save(dict(state_dict={'w': torch.zeros(1)}, meta=dict(x=obj)), path)
    with pytest.raises(UnsafeCheckpointError, match='evil.pth'):
        safe_load(path)
    with pytest.raises(UnsafeCheckpointError):
        load_checkpoint(torch.nn.Linear(1, 1), path, map_location='cpu')
    with pytest.raises(UnsafeCheckpointError):
        CheckpointLoader.load_checkpoint(path)
    assert not marker.exists(), 'the hostile payload ran'
    # sanity: the payload is real (unsafe pickle does run it)
    if payload == 'shell':
        torch.load(path, weights_only=False)
        assert marker.exists()


def test_pretrained_init_cfg_uses_safe_loading(tmp_path):
    from mmengine.model import BaseModule

    class Net(BaseModule):
        def __init__(self, ckpt):
            super().__init__(init_cfg=dict(type='Pretrained', checkpoint=ckpt))
            self.fc = torch.nn.Linear(2, 2)

    good = torch.nn.Linear(2, 2)
    torch.save({'state_dict': {'fc.weight': good.weight.data, 'fc.bias': good.bias.data}},
               str(tmp_path / 'good.pth'))
    net = Net(str(tmp_path / 'good.pth'))
    net.init_weights()
    torch.testing.assert_close(net.fc.weight.data, good.weight.data)

    marker = tmp_path / 'pwned'
    torch.save({'state_dict': {'fc.weight': _RunsShell(marker)}}, str(tmp_path / 'bad.pth'))
    with pytest.raises(UnsafeCheckpointError):
        Net(str(tmp_path / 'bad.pth')).init_weights()
    assert not marker.exists()


def test_missing_checkpoint_names_file(tmp_path):
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        safe_load(str(tmp_path / 'nope.pth'))


def test_local_writes_are_atomic(tmp_path, monkeypatch):
    from mmengine.fileio import get_file_backend
    path = tmp_path / 'ckpt.pth'
    backend = get_file_backend(str(path))
    backend.put(b'old', str(path))
    assert type(backend).__name__ == 'AtomicLocalBackend'

    def crash(fd):
        raise KeyboardInterrupt('killed mid-write')

    monkeypatch.setattr(os, 'fsync', crash)
    with pytest.raises(KeyboardInterrupt):
        backend.put(b'new content that never lands', str(path))
    with pytest.raises(KeyboardInterrupt):
        backend.put_text('new text', str(path))
    monkeypatch.undo()
    assert path.read_bytes() == b'old'
    assert os.listdir(tmp_path) == ['ckpt.pth'], 'temporary files were left behind'
    backend.put_text('last_checkpoint text', str(path))
    assert path.read_text() == 'last_checkpoint text'


def test_a_truncated_checkpoint_is_named_on_every_load_path(tmp_path):
    """Issue 10: a truncated .pth gave torch's 'central directory' error without the file."""
    import torch
    from mmengine.runner import load_checkpoint

    from mmssl_us.checkpoint import CorruptCheckpointError, safe_load
    good = tmp_path / 'good.pth'
    torch.save({'state_dict': {'w': torch.zeros(1000)}}, good)
    cut = tmp_path / 'cut.pth'
    cut.write_bytes(good.read_bytes()[:len(good.read_bytes()) // 2])
    with pytest.raises(CorruptCheckpointError, match=r'cut\.pth .*truncated'):
        safe_load(str(cut))
    with pytest.raises(CorruptCheckpointError, match=r'cut\.pth'):
        load_checkpoint(torch.nn.Linear(1, 1), str(cut))  # mmengine's path, through ours


def test_an_empty_last_checkpoint_is_named(tmp_path):
    from mmssl_us.transfer import resolve_source
    (tmp_path / 'last_checkpoint').write_text('\n')
    with pytest.raises(FileNotFoundError, match='last_checkpoint is empty'):
        resolve_source(str(tmp_path))


@pytest.mark.slow
def test_amp_on_a_machine_without_gpu_is_refused(monkeypatch):
    import os.path as osp

    import torch

    from mmssl_us.launch import run_train
    if torch.cuda.is_available():
        pytest.skip('this machine has a GPU')
    toy = osp.join(osp.dirname(osp.abspath(__file__)), '_toy', 'toy_config.py')
    monkeypatch.syspath_prepend(osp.dirname(toy))
    with pytest.raises(ValueError, match='--amp .*needs a CUDA GPU'):
        run_train([toy, '--amp', '--work-dir', '/tmp/mmssl_us_amp_test'])
