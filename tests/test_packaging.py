"""A plain ``pip install .`` (issue 19): the wheel carries the configs and the ``mmssl-us-*``
commands, and a study config's ``configs/...`` references resolve without a checkout."""
import configparser
import glob
import os.path as osp
import shutil
import subprocess
import sys
import zipfile

import pytest

from mmssl_us import cli
from mmssl_us.config_utils import config_root, resolve_config

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = sorted(osp.relpath(p, osp.join(ROOT, 'configs'))
                 for p in glob.glob(osp.join(ROOT, 'configs', '**', '*.py'), recursive=True))


def test_commands_name_functions_mains_and_tools_that_exist():
    for name, (function, target, tool) in cli.COMMANDS.items():
        assert name.startswith('mmssl-us-') and callable(getattr(cli, function)), name
        assert osp.isfile(osp.join(ROOT, tool)), tool
        module, main = target.split(':')
        path = osp.join(ROOT, *module.split('.'))
        assert osp.isfile(path + '.py') or osp.isfile(osp.join(path, '__init__.py')), target
        with open(osp.join(ROOT, tool), encoding='utf-8') as f:
            text = f.read()  # the tool runs the same main
        assert module in text and main in text, (tool, target)


def test_configs_paths_resolve_from_any_folder(tmp_path, monkeypatch):
    assert config_root() == osp.join(ROOT, 'configs')  # a checkout: configs/ beside mmssl_us/
    monkeypatch.chdir(tmp_path)
    assert resolve_config('configs/study/quickstart.py') == osp.join(
        ROOT, 'configs', 'study', 'quickstart.py')
    (tmp_path / 'configs').mkdir()
    (tmp_path / 'configs' / 'mine.py').write_text('x = 1\n')
    assert resolve_config('configs/mine.py') == 'configs/mine.py'  # the user's file wins
    assert resolve_config('configs/absent.py') == 'configs/absent.py'  # named by the caller
    assert resolve_config('study/quickstart.py') == 'study/quickstart.py'


@pytest.mark.slow
def test_wheel_carries_configs_and_commands_and_works_without_a_checkout(tmp_path):
    src = tmp_path / 'src'
    src.mkdir()
    for name in ('setup.py', 'README.md', 'requirements.txt'):
        shutil.copy(osp.join(ROOT, name), src / name)
    ignore = shutil.ignore_patterns('__pycache__', '*.pyc')
    for name in ('mmssl_us', 'configs'):
        shutil.copytree(osp.join(ROOT, name), src / name, ignore=ignore)
    out = subprocess.run([sys.executable, '-m', 'pip', 'wheel', '--no-deps',
                          '--no-build-isolation', '-q', '-w', str(tmp_path / 'dist'), str(src)],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    wheel, = glob.glob(str(tmp_path / 'dist' / 'mmssl_us-*.whl'))
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        entry_points, = [n for n in names if n.endswith('.dist-info/entry_points.txt')]
        parser = configparser.ConfigParser()
        parser.read_string(z.read(entry_points).decode())
        z.extractall(tmp_path / 'site')
    shipped = sorted(n[len('mmssl_us/.mim/configs/'):] for n in names
                     if n.startswith('mmssl_us/.mim/configs/'))
    assert shipped == [c.replace(osp.sep, '/') for c in CONFIGS]
    assert dict(parser['console_scripts']) == {
        name: f'mmssl_us.cli:{function}' for name, (function, _, _) in cli.COMMANDS.items()}
    assert not any(n.startswith(('tools/', 'tests/')) for n in names)
    # the installed package alone, from an empty folder: the study names its configs as
    # 'configs/...' and finds them in the wheel's copy
    work = tmp_path / 'elsewhere'
    work.mkdir()
    probe = ('from mmssl_us.study.runner import load_study_cfg; '
             'cfg = load_study_cfg("configs/study/quickstart.py"); '
             'print(cfg.filename); print(cfg.study.finetune.config); '
             'print([p.config for p in cfg.study.pretrain.values()])')
    env = dict(PATH='/usr/bin:/bin', HOME=str(tmp_path), PYTHONPATH=str(tmp_path / 'site'))
    out = subprocess.run([sys.executable, '-c', probe], cwd=str(work), env=env,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    mim = str(tmp_path / 'site' / 'mmssl_us' / '.mim' / 'configs')
    lines = out.stdout.strip().splitlines()
    assert lines[0] == osp.join(mim, 'study', 'quickstart.py')
    assert lines[1].startswith(mim) and lines[2].count(mim) >= 1, lines
