"""mmssl_us.fileio: old file kept on failure, no temporaries left, unique temp names, modes."""
import os
import os.path as osp
import stat
import threading

import pytest

from mmssl_us import fileio


def _mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_write_text_and_bytes(tmp_path):
    target = tmp_path / 'sub' / 'a.txt'
    fileio.atomic_write(str(target), 'héllo')
    assert target.read_text(encoding='utf-8') == 'héllo'
    fileio.atomic_write(str(target), b'\x00\x01')
    assert target.read_bytes() == b'\x00\x01'
    assert os.listdir(target.parent) == ['a.txt']


def test_failing_write_keeps_old_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / 'ckpt.pth'
    target.write_bytes(b'old')
    with pytest.raises(RuntimeError, match='boom'):
        with fileio.atomic_open(str(target)) as f:
            f.write(b'half of the new')
            raise RuntimeError('boom')
    assert target.read_bytes() == b'old'
    assert os.listdir(tmp_path) == ['ckpt.pth']


def test_failing_save_keeps_old_file(tmp_path):
    target = tmp_path / 'model.pth'
    target.write_bytes(b'old')

    class Unpicklable:
        def __reduce__(self):
            raise TypeError('cannot pickle this')

    with pytest.raises(TypeError, match='cannot pickle'):
        fileio.atomic_save({'x': Unpicklable()}, str(target))
    assert target.read_bytes() == b'old'
    assert os.listdir(tmp_path) == ['model.pth']


def test_failing_copy_keeps_old_file(tmp_path):
    target = tmp_path / 'dst.pth'
    target.write_bytes(b'old')
    with pytest.raises(FileNotFoundError):
        fileio.atomic_copy(str(tmp_path / 'missing.pth'), str(target))
    assert target.read_bytes() == b'old'
    assert os.listdir(tmp_path) == ['dst.pth']


def test_two_writers_never_share_a_temporary(tmp_path):
    target = str(tmp_path / 'same.txt')
    names, both_open = [], threading.Barrier(2)

    def writer(payload):
        with fileio.atomic_open(target) as f:
            names.append(f.name)
            both_open.wait(timeout=10)  # both temporaries exist at the same time
            f.write(payload)

    threads = [threading.Thread(target=writer, args=(p, )) for p in (b'one', b'two')]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(names) == 2 and names[0] != names[1]
    assert open(target, 'rb').read() in (b'one', b'two')
    assert os.listdir(tmp_path) == ['same.txt']


@pytest.mark.parametrize('umask', [0o022, 0o027, 0o077, 0o002])
def test_new_file_mode_follows_umask(tmp_path, umask):
    old = os.umask(umask)
    try:
        fileio.atomic_write(str(tmp_path / 'w.txt'), 'x')
        fileio.atomic_save({'a': 1}, str(tmp_path / 's.pth'))
        fileio.atomic_copy(str(tmp_path / 'w.txt'), str(tmp_path / 'c.txt'))
        with open(tmp_path / 'plain.txt', 'w') as f:  # what a plain open gives
            f.write('x')
    finally:
        os.umask(old)
    expected = 0o666 & ~umask
    assert _mode(tmp_path / 'plain.txt') == expected
    for name in ('w.txt', 's.pth', 'c.txt'):
        assert _mode(tmp_path / name) == expected, name


def test_replacing_keeps_the_mode_of_the_old_file(tmp_path):
    target = tmp_path / 'shared.pth'
    target.write_bytes(b'old')
    os.chmod(target, 0o664)
    fileio.atomic_write(str(target), b'new')
    assert _mode(target) == 0o664 and target.read_bytes() == b'new'


def test_save_round_trip_and_copy(tmp_path):
    torch = pytest.importorskip('torch')
    state = {'w': torch.arange(6.).reshape(2, 3)}
    fileio.atomic_save(state, str(tmp_path / 'a' / 'm.pth'))
    fileio.atomic_copy(str(tmp_path / 'a' / 'm.pth'), str(tmp_path / 'b' / 'm.pth'))
    for sub in ('a', 'b'):
        loaded = torch.load(tmp_path / sub / 'm.pth', weights_only=True)
        assert torch.equal(loaded['w'], state['w'])


def test_checkpoint_backend_writes_through_atomic_open(tmp_path, monkeypatch):
    """mmengine's checkpoint writes (LocalBackend.put/put_text) go through the same helper."""
    pytest.importorskip('mmengine')
    from mmssl_us import checkpoint
    backend = checkpoint._make_atomic_backend()()
    seen = []
    real = fileio.atomic_open

    def spy(path):
        seen.append(path)
        return real(path)

    monkeypatch.setattr(fileio, 'atomic_open', spy)
    backend.put(b'bytes', str(tmp_path / 'epoch_1.pth'))
    backend.put_text('epoch_1.pth', str(tmp_path / 'last_checkpoint'))
    assert seen == [str(tmp_path / 'epoch_1.pth'), str(tmp_path / 'last_checkpoint')]
    assert (tmp_path / 'last_checkpoint').read_text() == 'epoch_1.pth'


@pytest.mark.slow
def test_stale_temporaries_of_dead_writers_are_removed(tmp_path):
    """Issue 10, case 13: a kill during a checkpoint write left hidden temporaries forever."""
    import subprocess
    import sys

    from mmssl_us.fileio import clean_stale_temporaries
    dead = subprocess.run([sys.executable, '-c', 'import os; print(os.getpid())'],
                          capture_output=True, text=True).stdout.strip()
    stale = tmp_path / f'.iter_4.pth.{dead}.abc123.tmp'
    live = tmp_path / f'.iter_5.pth.{os.getpid()}.def456.tmp'
    (tmp_path / 'sub').mkdir()
    nested = tmp_path / 'sub' / f'.backbone.pth.{dead}.zz.tmp'
    other = tmp_path / 'notes.tmp'
    for p in (stale, live, nested, other):
        p.write_bytes(b'x')
    assert clean_stale_temporaries(str(tmp_path)) == [str(stale)]
    assert live.exists() and nested.exists() and other.exists()
    assert clean_stale_temporaries(str(tmp_path), recursive=True) == [str(nested)]
    assert clean_stale_temporaries(str(tmp_path / 'missing')) == []


def test_a_full_disk_names_the_file(tmp_path, monkeypatch):
    """Issue 10: a full disk gave `Errno 28` without the path."""
    import errno

    target = tmp_path / 'ckpt.pth'
    target.write_bytes(b'old')

    def full(fd):
        raise OSError(errno.ENOSPC, 'No space left on device')
    monkeypatch.setattr(os, 'fsync', full)
    with pytest.raises(OSError, match=r'no space left on the device while writing .*ckpt\.pth'):
        fileio.atomic_write(str(target), b'new')
    assert target.read_bytes() == b'old'
    assert os.listdir(tmp_path) == ['ckpt.pth']


def test_the_package_writes_files_only_through_fileio():
    """Issue 19: CONTRACTS calls fileio "the one atomic write", yet launch.py, the
    LabelFractionHook and the HC18 converter wrote with a plain open(..., 'w'). No module but
    fileio.py opens a file for writing, except the tools' traceback log (cli.py, best effort),
    the studies' append-only logs and the nnU-Net trainer's log (written by nnU-Net's
    process, which imports that file by path)."""
    import ast
    import glob

    package = osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))), 'mmssl_us')
    allowed = {('cli.py', 'w'), (osp.join('study', 'runner.py'), 'a'),
               # the 3D study's study.log and its nnU-Net children's logs (append-only)
               (osp.join('volume', 'study.py'), 'a'),
               # imported by nnU-Net by path, outside the package: temporary + os.replace
               (osp.join('volume', 'trainers', 'nnUNetTrainerMMSSLShort.py'), 'w')}
    found = []
    for path in sorted(glob.glob(osp.join(package, '**', '*.py'), recursive=True)):
        rel = osp.relpath(path, package)
        if rel == 'fileio.py':
            continue
        with open(path, encoding='utf-8') as f:
            tree = ast.parse(f.read())
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and getattr(node.func, 'id', None) == 'open'):
                continue
            mode = node.args[1] if len(node.args) > 1 else next(
                (k.value for k in node.keywords if k.arg == 'mode'), None)
            mode = mode.value if isinstance(mode, ast.Constant) else 'r'
            if any(c in mode for c in 'wax+') and (rel, mode) not in allowed:
                found.append(f'{rel}:{node.lineno} open(..., {mode!r})')
    assert not found, found


def test_a_figure_is_saved_atomically_in_the_format_of_its_suffix(tmp_path):
    from matplotlib.figure import Figure
    from mmssl_us.fileio import atomic_savefig
    fig = Figure(figsize=(2, 2))
    fig.subplots().plot([0, 1], [1, 0])
    atomic_savefig(fig, str(tmp_path / 'a.png'))
    atomic_savefig(fig, str(tmp_path / 'a.svg'))
    assert (tmp_path / 'a.png').read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    assert b'<svg' in (tmp_path / 'a.svg').read_bytes()[:400]
    (tmp_path / 'b.png').write_bytes(b'old')

    class Broken:
        def savefig(self, f, **kwargs):
            f.write(b'half')
            raise RuntimeError('renderer failed')

    with pytest.raises(RuntimeError, match='renderer failed'):
        atomic_savefig(Broken(), str(tmp_path / 'b.png'))
    assert (tmp_path / 'b.png').read_bytes() == b'old'
    assert sorted(p.name for p in tmp_path.iterdir()) == ['a.png', 'a.svg', 'b.png']


def test_converted_pngs_are_written_atomically_and_read_back(tmp_path, monkeypatch):
    import cv2
    import numpy as np

    from mmssl_us import fileio
    from mmssl_us.data.converters.common import write_png
    written = []
    real = fileio.atomic_open
    monkeypatch.setattr(fileio, 'atomic_open', lambda p: written.append(p) or real(p))
    img = (np.arange(12 * 10) % 256).astype(np.uint8).reshape(12, 10)
    path = str(tmp_path / 'sub' / 'x.png')
    write_png(path, img)
    assert written == [path]
    np.testing.assert_array_equal(cv2.imread(path, cv2.IMREAD_UNCHANGED), img)
    with pytest.raises(ValueError, match=r'x\.png: expected uint8 data, got uint16'):
        write_png(path, img.astype(np.uint16))
