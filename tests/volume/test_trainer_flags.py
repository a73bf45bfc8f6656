"""The short trainer's environment switches, without a planned dataset (the trainer's methods
called on a stand-in object). Skips where nnunetv2 is not installed."""
import importlib.util
import os.path as osp

import numpy as np
import pytest

pytest.importorskip('nnunetv2')

from mmssl_us.volume.nnunet import TRAINERS_DIR  # noqa: E402


def _trainer_module():
    path = osp.join(TRAINERS_DIR, 'nnUNetTrainerMMSSLShort.py')
    spec = importlib.util.spec_from_file_location('_short_trainer', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _trainer_class():
    return _trainer_module().nnUNetTrainerMMSSLShort


def _stand(cls):
    """An instance of the trainer without nnU-Net's set-up (no plans, no network)."""
    stand = object.__new__(cls)
    stand.logged = []
    stand.print_to_log_file = lambda *args: stand.logged.append(' '.join(map(str, args)))
    return stand


def test_final_validation_is_skipped_only_when_asked(monkeypatch):
    cls = _trainer_class()
    parent = cls.__mro__[1]
    called = []
    monkeypatch.setattr(parent, 'perform_actual_validation',
                        lambda self, save_probabilities=False: called.append(save_probabilities))
    stand = _stand(cls)
    monkeypatch.setenv('MMSSL_US_NNUNET_FINAL_VAL', '0')
    cls.perform_actual_validation(stand)
    assert called == [] and 'final validation skipped' in stand.logged[0]
    monkeypatch.delenv('MMSSL_US_NNUNET_FINAL_VAL')
    cls.perform_actual_validation(stand, True)  # nnU-Net's default: validated
    assert called == [True]
    monkeypatch.setenv('MMSSL_US_NNUNET_FINAL_VAL', 'no')
    with pytest.raises(ValueError, match="MMSSL_US_NNUNET_FINAL_VAL must be 0 or 1, got 'no'"):
        cls.perform_actual_validation(stand)


def test_the_study_skips_nnunets_final_validation():
    from mmssl_us.volume.study import _env
    env = _env(dict(raw='r', preprocessed='p'), 'res',
               dict(epochs=2, iters=3, val_iters=1, ema=0.5), 4)
    assert env['MMSSL_US_NNUNET_FINAL_VAL'] == '0'
    assert (env['MMSSL_US_NNUNET_EPOCHS'], env['MMSSL_US_NNUNET_SEED']) == ('2', '4')


class _Loader:
    """A stand-in for nnU-Net's data loader: its keys, batch size and a batch of the keys it
    is given, with a crop drawn from numpy's global generator as nnU-Net's is."""

    def __init__(self, keys, batch_size):
        self.indices, self.batch_size = list(keys), batch_size

    def get_indices(self):
        raise AssertionError('a fixed batch must not draw its cases at random')

    def generate_train_batch(self):
        keys = self.get_indices()
        return dict(keys=list(keys), size=self.batch_size,
                    crop=[int(np.random.randint(0, 1000)) for _ in keys])


def test_fixed_batches_hold_every_case_once_and_repeat_exactly():
    module = _trainer_module()
    loader = _Loader(['c0', 'c1', 'c2', 'c3', 'c4'], batch_size=2)
    np.random.seed(123)
    before = np.random.get_state()[1].copy()
    first = module.fixed_batches(loader)
    assert [b['keys'] for b in first] == [['c0', 'c1'], ['c2', 'c3'], ['c4']]
    assert [b['size'] for b in first] == [2, 2, 1]  # the last batch holds no stale rows
    assert loader.batch_size == 2 and 'get_indices' not in loader.__dict__
    assert (np.random.get_state()[1] == before).all()  # the run's own draws are untouched
    assert module.fixed_batches(loader) == first  # the same crops every time
    assert module.fixed_batches(loader, seed=1) != first


def test_the_moving_average_weight_is_read_checked_and_applied(monkeypatch, tmp_path):
    from nnunetv2.training.logging.nnunet_logger import MetaLogger
    module = _trainer_module()
    cls = module.nnUNetTrainerMMSSLShort
    parent = cls.__mro__[1]
    # nnU-Net's end of a validation epoch logs the epoch's pseudo Dice (and its 0.9 average)
    monkeypatch.setattr(parent, 'on_validation_epoch_end',
                        lambda self, outputs: self.logger.log('mean_fg_dice', outputs,
                                                              self.current_epoch))

    def curve(weight):
        stand = _stand(cls)
        stand.logger, stand.ema_weight = MetaLogger(str(tmp_path), False), weight
        for epoch, dice in enumerate([0.5, 0.9, 0.7]):
            stand.current_epoch = epoch
            cls.on_validation_epoch_end(stand, dice)
        return [round(v, 6) for v in stand.logger.get_value('ema_fg_dice', step=None)]

    assert curve(0.9) == [0.5, 0.54, 0.556]  # nnU-Net's own average, left as it is
    assert curve(0.0) == [0.5, 0.9, 0.7]  # each epoch's pseudo Dice itself
    assert curve(0.5) == [0.5, 0.7, 0.7]
    monkeypatch.setenv('MMSSL_US_NNUNET_EMA', '0.25')
    assert module._env_weight('MMSSL_US_NNUNET_EMA', 0.9) == 0.25
    monkeypatch.delenv('MMSSL_US_NNUNET_EMA')
    assert module._env_weight('MMSSL_US_NNUNET_EMA', 0.9) == 0.9
    for bad in ('1', '-0.1', 'high'):
        monkeypatch.setenv('MMSSL_US_NNUNET_EMA', bad)
        with pytest.raises(ValueError, match=rf"MMSSL_US_NNUNET_EMA must be a number in "
                                             rf"\[0, 1\), got '{bad}'"):
            module._env_weight('MMSSL_US_NNUNET_EMA', 0.9)


def test_the_progress_plot_is_drawn_once_at_the_end(monkeypatch, tmp_path):
    cls = _trainer_class()
    parent = cls.__mro__[1]
    monkeypatch.setattr(parent, 'on_train_start', lambda self: None)
    monkeypatch.setattr(parent, 'on_train_end', lambda self: None)
    drawn = []

    class Logger:
        def plot_progress_png(self, folder):
            drawn.append(folder)

        def get_value(self, key, step):
            return []

    stand = _stand(cls)
    stand.logger, stand.whole_val, stand.local_rank = Logger(), False, 1
    stand.output_folder = 'out'
    cls.on_train_start(stand)
    for _ in range(3):  # what nnU-Net's on_epoch_end calls after every epoch
        stand.logger.plot_progress_png(stand.output_folder)
    assert drawn == []
    stand.local_rank, stand.output_folder = 0, str(tmp_path)
    cls.on_train_end(stand)
    assert drawn == [stand.output_folder]


def test_the_study_validates_on_every_case_and_selects_on_the_epochs_dice():
    from mmssl_us.volume.study import VOLUME_SPEC, _env
    finetune = VOLUME_SPEC['finetune']
    env = _env(dict(raw='r', preprocessed='p'), 'res', finetune, 0)
    assert (env['MMSSL_US_NNUNET_VAL_ITERS'], env['MMSSL_US_NNUNET_EMA']) == ('all', '0.0')
