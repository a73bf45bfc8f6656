"""The tools print a refusal's sentence and exit non-zero; the traceback goes to a log file, or
to the terminal with --debug (issue 18)."""
import os
import os.path as osp
import subprocess
import sys

import pytest

from mmssl_us.cli import USER_ERROR_STATUS, run_main

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


def _tool(args, tmp_path, **env):
    env = dict(os.environ, MMSSL_US_LOG_DIR=str(tmp_path / 'logs'), OMP_NUM_THREADS='1',
               PYTHONPATH=ROOT, **env)
    return subprocess.run([sys.executable] + args, capture_output=True, text=True, cwd=ROOT,
                          env=env, timeout=120)


@pytest.mark.slow
def test_a_refusal_prints_one_sentence_and_logs_the_traceback(tmp_path):
    missing = str(tmp_path / 'nope.py')
    out = _tool(['tools/train.py', missing], tmp_path)
    assert out.returncode == USER_ERROR_STATUS
    assert f'error: config file not found: {missing}' in out.stderr
    assert 'Traceback' not in out.stderr + out.stdout
    logs = os.listdir(tmp_path / 'logs')
    assert len(logs) == 1 and logs[0].startswith('train-')
    assert 'Traceback' in (tmp_path / 'logs' / logs[0]).read_text()
    assert str(tmp_path / 'logs' / logs[0]) in out.stderr  # says where the traceback is


@pytest.mark.slow
def test_debug_shows_the_traceback(tmp_path):
    out = _tool(['-m', 'mmssl_us.launch', 'test', str(tmp_path / 'c.py'), 'x.pth', '--debug'],
                tmp_path)
    assert out.returncode != 0 and 'Traceback' in out.stderr
    assert 'FileNotFoundError: config file not found' in out.stderr


@pytest.mark.slow
def test_run_study_refusal_has_no_traceback(tmp_path):
    cfg = tmp_path / 'study.py'
    cfg.write_text("study = dict(data_root='d', inits=['random'], fractions=[1.0], seeds=[0],"
                   " finetune=dict(config='f.py'), pool=dict(extras=['x']))\n")
    out = _tool(['tools/run_study.py', str(cfg), '--work-dir', str(tmp_path / 'w')], tmp_path)
    assert out.returncode == USER_ERROR_STATUS
    assert "unknown key 'extras' (did you mean 'extra'?)" in out.stderr
    assert 'Traceback' not in out.stderr


def test_run_main_reports_refusals_and_lets_bugs_through(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv('MMSSL_US_LOG_DIR', str(tmp_path))

    def refuse(argv):
        raise FileExistsError(f'out exists: {argv}')

    assert run_main(refuse, ['a'], prog='t') == USER_ERROR_STATUS
    assert "error: out exists: ['a']" in capsys.readouterr().err
    assert run_main(lambda argv: {'mIoU': 1.0}, []) == 0
    assert run_main(lambda argv: 1, []) == 1

    def bug(argv):
        raise ZeroDivisionError('a bug')

    with pytest.raises(ZeroDivisionError):
        run_main(bug, [])
    with pytest.raises(FileExistsError):  # --debug: the traceback, not the sentence
        run_main(refuse, ['--debug'])
