"""How every command-line tool ends on a user's mistake: one sentence, a non-zero exit.

``sys.exit(run_main(main))`` wraps a tool's ``main(argv)``. A refusal (:func:`is_user_error`:
``ValueError``, ``FileNotFoundError``, ``FileExistsError``, ``NotADirectoryError``,
``IsADirectoryError`` and the package's own error types, which carry ``user_error = True``)
prints ``error: <sentence>`` to stderr and exits with status 2; its traceback is written to a
log file (named on the next line) instead of the terminal. ``--debug`` (anywhere on the command
line, removed before the tool parses it) or ``MMSSL_US_DEBUG=1`` lets the traceback through, as
does any other exception (a bug is not a refusal). Standard library only.

The installed commands (``console_scripts`` of setup.py, :data:`COMMANDS`) are the functions at
the end of this module: each runs one of the package's mains through :func:`run_main`, as the
scripts in the repository's tools/ do.
"""
from __future__ import annotations

import importlib
import os
import os.path as osp
import sys
import tempfile
import time
import traceback
from typing import Any, Callable, List, Optional, Sequence

__all__ = ['run_main', 'is_user_error', 'USER_ERRORS', 'USER_ERROR_STATUS', 'error_log_dir',
           'COMMANDS']

#: the built-in exception types that mean "the input is wrong" (the tools' refusals)
USER_ERRORS = (ValueError, FileNotFoundError, FileExistsError, NotADirectoryError,
               IsADirectoryError)
#: the exit status of a refusal (check_leakage's "bad input" too)
USER_ERROR_STATUS = 2


def is_user_error(exc: BaseException) -> bool:
    """A refusal with a sentence for the user (rather than a bug)."""
    return isinstance(exc, USER_ERRORS) or bool(getattr(exc, 'user_error', False))


def error_log_dir() -> str:
    """Where tracebacks of refusals go: ``$MMSSL_US_LOG_DIR`` or ``<tmp>/mmssl_us-logs``."""
    return os.environ.get('MMSSL_US_LOG_DIR') or osp.join(tempfile.gettempdir(),
                                                          'mmssl_us-logs')


def _write_traceback(exc: BaseException, prog: str, argv: Sequence[str]) -> Optional[str]:
    folder = error_log_dir()
    path = osp.join(folder, f'{prog}-{time.strftime("%Y%m%d-%H%M%S")}-{os.getpid()}.log')
    try:
        os.makedirs(folder, exist_ok=True)
        with open(path, 'w', encoding='utf-8') as f:
            f.write(f'{prog} {" ".join(argv)}\n\n')
            f.write(''.join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
    except OSError:
        return None
    return path


def _user_paths(message: str) -> str:
    """A refusal names the user's own files, not a folder study's linked copies of them."""
    if '/images/' not in message and '/masks/' not in message:
        return message
    try:
        from .data.layout import to_source
        return to_source(message)
    except Exception:  # noqa: BLE001 - never hide the refusal itself
        return message


def run_main(main: Callable[[List[str]], Any], argv: Optional[Sequence[str]] = None,
             prog: Optional[str] = None) -> int:
    """Run ``main(argv)`` as a tool: its exit status (0 when it returns a non-int, such as
    tools/test.py's metrics), or :data:`USER_ERROR_STATUS` after printing a refusal.

    Args:
        main (Callable): The tool's entry point, taking the argument list.
        argv (Sequence[str], optional): Arguments. Defaults to ``sys.argv[1:]``.
        prog (str, optional): Name for the log file. Defaults to the script's name.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = '--debug' in argv or os.environ.get('MMSSL_US_DEBUG', '') not in ('', '0')
    argv = [a for a in argv if a != '--debug']
    prog = prog or osp.splitext(osp.basename(sys.argv[0] or 'mmssl_us'))[0] or 'mmssl_us'
    try:
        status = main(argv)
    except Exception as exc:  # noqa: BLE001 - a refusal is reported, anything else re-raised
        if debug or not is_user_error(exc):
            raise
        print(f'error: {_user_paths(str(exc)) or type(exc).__name__}', file=sys.stderr)
        log = _write_traceback(exc, prog, argv)
        if log:
            print(f'(the traceback is in {log}; --debug prints it here)', file=sys.stderr)
        return _end(USER_ERROR_STATUS)
    return _end(status if isinstance(status, int) and not isinstance(status, bool) else 0)


def _end(status: int) -> int:
    """``status``; a CPU torchrun process leaves here instead (see
    :func:`mmssl_us.distributed.end_cpu_distributed`; only a process that imported that module
    can have opened such a group, so this imports nothing)."""
    distributed = sys.modules.get(__name__.rpartition('.')[0] + '.distributed')
    if distributed is not None:
        distributed.end_cpu_distributed(status)
    return status


#: the installed commands: name -> (the function of this module setup.py names, the main it runs,
#: the tools/ script that runs the same main in a checkout)
COMMANDS = {
    'mmssl-us-study': ('study', 'mmssl_us.study.cli:main', 'tools/run_study.py'),
    'mmssl-us-train': ('train', 'mmssl_us.launch:run_train', 'tools/train.py'),
    'mmssl-us-test': ('test', 'mmssl_us.launch:run_test', 'tools/test.py'),
    'mmssl-us-dist-test': ('dist_test', 'mmssl_us.distributed:dist_test_main',
                           'tools/dist_test.py'),
    'mmssl-us-convert': ('convert', 'mmssl_us.transfer.cli:main',
                         'tools/model_converters/pretrain2seg.py'),
    'mmssl-us-synthetic': ('synthetic', 'mmssl_us.synthetic.cli:main',
                           'tools/generate_synthetic.py'),
    'mmssl-us-check-leakage': ('check_leakage', 'mmssl_us.data.leakage:main',
                               'tools/analysis/check_leakage.py'),
    'mmssl-us-infer': ('infer', 'mmssl_us.seg.inference:main', 'tools/infer.py'),
}


def _command(name: str) -> int:
    module, function = COMMANDS[name][1].split(':')
    return run_main(getattr(importlib.import_module(module), function), prog=name)


def study() -> int:
    """``mmssl-us-study``: :func:`mmssl_us.study.cli.main` (tools/run_study.py)."""
    return _command('mmssl-us-study')


def train() -> int:
    """``mmssl-us-train``: :func:`mmssl_us.launch.run_train` (tools/train.py)."""
    return _command('mmssl-us-train')


def test() -> int:
    """``mmssl-us-test``: :func:`mmssl_us.launch.run_test` (tools/test.py)."""
    return _command('mmssl-us-test')


def dist_test() -> int:
    """``mmssl-us-dist-test``: :func:`mmssl_us.distributed.dist_test_main`."""
    return _command('mmssl-us-dist-test')


def convert() -> int:
    """``mmssl-us-convert``: :func:`mmssl_us.transfer.cli.main` (pretrain2seg.py)."""
    return _command('mmssl-us-convert')


def synthetic() -> int:
    """``mmssl-us-synthetic``: :func:`mmssl_us.synthetic.cli.main` (generate_synthetic.py)."""
    return _command('mmssl-us-synthetic')


def check_leakage() -> int:
    """``mmssl-us-check-leakage``: :func:`mmssl_us.data.leakage.main`."""
    return _command('mmssl-us-check-leakage')


def infer() -> int:
    """``mmssl-us-infer``: :func:`mmssl_us.seg.inference.main` (tools/infer.py)."""
    return _command('mmssl-us-infer')
