"""The thin command-line wrappers in tools/dataset_converters/."""
import csv
import importlib.util
import os.path as osp

import pytest

from .test_hc18 import _release

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))


def _tool(name):
    path = osp.join(ROOT, 'tools', 'dataset_converters', f'{name}.py')
    spec = importlib.util.spec_from_file_location(f'converter_cli_{name}', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize('name', ['echonet', 'camus', 'hc18'])
def test_help(name, capsys):
    with pytest.raises(SystemExit) as exit_info:
        _tool(name).main(['--help'])
    assert exit_info.value.code == 0
    assert '--out' in capsys.readouterr().out


def test_hc18_cli_converts(tmp_path, capsys):
    src, out = str(tmp_path / 'src'), str(tmp_path / 'out')
    names = _release(src)
    assert _tool('hc18').main([src, '--out', out, '--seed', '2']) == 0
    assert 'written' in capsys.readouterr().out
    with open(osp.join(out, 'pixel_size.csv')) as f:
        assert len(list(csv.DictReader(f))) == len(names)
