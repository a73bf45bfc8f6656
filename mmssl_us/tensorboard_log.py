"""TensorBoard logging through mmengine's ``TensorboardVisBackend``, switched on without editing
a config: ``tools/train.py --tensorboard`` or ``MMSSL_US_TENSORBOARD=1`` in the environment.

Everything a run sends to its visualizer then also goes to TensorBoard event files in
``<work_dir>/<timestamp>/vis_data/`` next to the local ``scalars.json``: losses and learning
rates, validation metrics, the pretraining probe's ``probe/mIoU``. ``tensorboard --logdir
work_dirs`` shows them. The ``tensorboard`` package is optional (``tools/setup.sh`` installs it;
``tools/check_env.py`` reports it).

One way in: :func:`enable_tensorboard` adds the backend to a config before its Runner is built,
in the one training driver ``mmssl_us.train.build_runner`` (tools/train.py, dist_train.sh,
slurm_train.sh, the study's pretraining processes and its fine-tuning runs).
"""
import importlib.util
import os

__all__ = ['ENV', 'wanted', 'check_available', 'enable_tensorboard']

#: the environment switch: '1' on, '0' or unset off
ENV = 'MMSSL_US_TENSORBOARD'
BACKEND = 'TensorboardVisBackend'


def wanted(env=None) -> bool:
    """Whether ``MMSSL_US_TENSORBOARD`` asks for TensorBoard.

    Raises:
        ValueError: a value other than '0', '1' or empty (a typo would otherwise log nothing).
    """
    value = (os.environ if env is None else env).get(ENV, '').strip()
    if value not in ('', '0', '1'):
        raise ValueError(f'{ENV}={value!r}: use 1 (TensorBoard on) or 0 (off)')
    return value == '1'


def check_available() -> None:
    """Raise ImportError with the install command when the tensorboard package is missing."""
    try:
        found = importlib.util.find_spec('tensorboard') is not None
    except (ImportError, ValueError):  # a broken or stubbed module
        found = False
    if not found:
        raise ImportError('TensorBoard logging (--tensorboard / MMSSL_US_TENSORBOARD=1) needs the '
                          'optional tensorboard package: pip install tensorboard (or bash '
                          'tools/setup.sh, which installs it)')


def _is_tensorboard(backend) -> bool:
    kind = backend.get('type') if isinstance(backend, dict) else type(backend).__name__
    kind = getattr(kind, '__name__', kind)
    return isinstance(kind, str) and kind.rsplit('.', 1)[-1] == BACKEND


def enable_tensorboard(cfg) -> bool:
    """Add ``TensorboardVisBackend`` to ``cfg.visualizer.vis_backends`` in place (a visualizer
    with the local and the TensorBoard backend when the config has none).

    Returns:
        bool: False when the config already had it.
    """
    check_available()
    visualizer = cfg.get('visualizer')
    if visualizer is None:
        cfg.visualizer = dict(type='Visualizer', vis_backends=[dict(type='LocalVisBackend'),
                                                               dict(type=BACKEND)])
        return True
    backends = list(visualizer.get('vis_backends') or [])
    if any(_is_tensorboard(b) for b in backends):
        return False
    visualizer['vis_backends'] = backends + [dict(type=BACKEND)]
    return True
