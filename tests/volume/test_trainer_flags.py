"""The short trainer's environment switches, without a planned dataset (the trainer's methods
called on a stand-in object). Skips where nnunetv2 is not installed."""
import importlib.util
import os.path as osp

import pytest

pytest.importorskip('nnunetv2')

from mmssl_us.volume.nnunet import TRAINERS_DIR  # noqa: E402


def _trainer_class():
    path = osp.join(TRAINERS_DIR, 'nnUNetTrainerMMSSLShort.py')
    spec = importlib.util.spec_from_file_location('_short_trainer', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.nnUNetTrainerMMSSLShort


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
    env = _env(dict(raw='r', preprocessed='p'), 'res', dict(epochs=2, iters=3, val_iters=1), 4)
    assert env['MMSSL_US_NNUNET_FINAL_VAL'] == '0'
    assert (env['MMSSL_US_NNUNET_EPOCHS'], env['MMSSL_US_NNUNET_SEED']) == ('2', '4')
