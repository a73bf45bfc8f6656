"""A short nnU-Net trainer for CPU demonstrations and tests (found via ``nnUNet_extTrainer``).

nnU-Net's ``nnUNetTrainer_5epochs`` still runs 250 training and 50 validation iterations an
epoch; this one reads its length from the environment, so that one class serves the tests and
the study:

- ``MMSSL_US_NNUNET_EPOCHS`` (default 5) and ``MMSSL_US_NNUNET_ITERS`` (training iterations
  per epoch, default 5);
- ``MMSSL_US_NNUNET_VAL_ITERS``: validation iterations per epoch (default 2; nnU-Net draws
  their cases at random, with replacement), or ``all``: every validation case once per epoch,
  in the same batches every epoch (drawn once, at the start of training, by nnU-Net's own
  validation loader and transforms), so that the pseudo-Dice curve moves with the network
  only and not with which cases an epoch happened to draw;
- ``MMSSL_US_NNUNET_EMA``: the weight of the previous value in the moving average of the
  pseudo Dice (``ema_fg_dice``) that selects ``checkpoint_best.pth``; default 0.9, nnU-Net's
  own. That average has a time constant of about ten epochs, which suits nnU-Net's 1000 but
  is the whole of a ten-epoch schedule: there it still climbs at the end whatever the network
  does. 0 selects on each epoch's pseudo Dice itself;
- ``MMSSL_US_NNUNET_FINAL_VAL=0`` skips nnU-Net's final validation (its sliding-window,
  mirrored prediction of every validation case, which the study does not read: it predicts
  its own test split);
- the progress plot (``progress.png``) is drawn once, at the end of training, not after
  every epoch (nnU-Net's plot costs about 0.7 s on 2 CPU cores, a tenth of a short epoch);
- ``MMSSL_US_NNUNET_SEED`` seeds Python's, numpy's and torch's generators before the network
  is built (with ``nnUNet_n_proc_DA=0`` the batches and augmentation are drawn in this
  process, so a seed repeats a CPU run).

Point ``nnUNet_extTrainer`` at this folder (:data:`mmssl_us.volume.nnunet.TRAINERS_DIR`) and
run ``nnUNetv2_train D 3d_fullres 0 -tr nnUNetTrainerMMSSLShort -device cpu``. Everything else
is nnU-Net's own training (loss, augmentation, poly learning rate over ``num_epochs``, the
per-epoch ``mean_fg_dice`` / ``ema_fg_dice`` log in the checkpoint's ``logging``).

This file imports nnunetv2 only (nnU-Net imports it by path, outside the package).
"""
import itertools
import os
import random

import numpy as np
import torch
from nnunetv2.training.nnUNetTrainer.nnUNetTrainer import nnUNetTrainer


#: the per-epoch log written at the end of training (nnU-Net's ``logging`` of a checkpoint)
LOG_FILE = 'training_log.json'
#: the per-epoch series it holds (nnU-Net's logger keys; one value per epoch each)
LOGGED = ('mean_fg_dice', 'ema_fg_dice', 'train_losses', 'val_losses', 'lrs',
          'epoch_start_timestamps', 'epoch_end_timestamps')


#: nnU-Net's weight of the previous value in its moving average of the pseudo Dice
NNUNET_EMA = 0.9
#: the seed of the crops of the fixed validation batches (``MMSSL_US_NNUNET_VAL_ITERS=all``):
#: the same for every run, so that every arm is validated on the same batches
VAL_SEED = 0


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, str(default))
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise ValueError(f'{name} must be a positive integer, got {value!r}')
    return number


def _env_weight(name: str, default: float) -> float:
    value = os.environ.get(name, repr(default))
    try:
        weight = float(value)
    except ValueError:
        weight = -1.0
    if not 0 <= weight < 1:
        raise ValueError(f'{name} must be a number in [0, 1), got {value!r}')
    return weight


def fixed_batches(loader, seed: int = VAL_SEED) -> list:
    """Every case of an nnU-Net data loader once, in order, in batches of its batch size (the
    last one smaller), each through the loader's own cropping and transforms; numpy's global
    generator (which the loader's crops draw from) is seeded for the draw and restored after.
    """
    keys = list(loader.indices)
    size = loader.batch_size
    state = np.random.get_state()
    np.random.seed(seed)
    batches = []
    try:
        for start in range(0, len(keys), size):
            chunk = keys[start:start + size]
            loader.batch_size = len(chunk)  # the loader fills a tensor of batch_size samples
            loader.get_indices = lambda chunk=chunk: chunk
            batches.append(loader.generate_train_batch())
    finally:
        loader.batch_size = size
        loader.__dict__.pop('get_indices', None)
        np.random.set_state(state)
    return batches


class nnUNetTrainerMMSSLShort(nnUNetTrainer):
    """nnUNetTrainer with few epochs and few iterations per epoch (see the module docstring)."""

    def __init__(self, plans: dict, configuration: str, fold: int, dataset_json: dict,
                 device: torch.device = torch.device('cuda')):
        seed = os.environ.get('MMSSL_US_NNUNET_SEED')
        if seed is not None:  # the study's seed: weights, sampling and augmentation
            if not seed.isdigit():
                raise ValueError(f'MMSSL_US_NNUNET_SEED must be an integer >= 0, got {seed!r}')
            seed = int(seed)
            random.seed(seed)
            np.random.seed(seed)
            torch.manual_seed(seed)
        super().__init__(plans, configuration, fold, dataset_json, device)
        self.num_epochs = _env_int('MMSSL_US_NNUNET_EPOCHS', 5)
        self.num_iterations_per_epoch = _env_int('MMSSL_US_NNUNET_ITERS', 5)
        val_iters = os.environ.get('MMSSL_US_NNUNET_VAL_ITERS', '2')
        self.whole_val = val_iters == 'all'
        self.num_val_iterations_per_epoch = (
            1 if self.whole_val else _env_int('MMSSL_US_NNUNET_VAL_ITERS', 2))
        self.ema_weight = _env_weight('MMSSL_US_NNUNET_EMA', NNUNET_EMA)
        self.save_every = self.num_epochs + 1  # only checkpoint_final / checkpoint_best

    def on_train_start(self):
        """nnU-Net's start of training; then, with ``MMSSL_US_NNUNET_VAL_ITERS=all``, its
        random validation draws replaced by :func:`fixed_batches` of every validation case."""
        super().on_train_start()
        self._plot_progress = self.logger.plot_progress_png
        self.logger.plot_progress_png = lambda output_folder: None  # drawn in on_train_end
        if self.whole_val:
            augmenter = self.dataloader_val
            loader = getattr(augmenter, 'data_loader', None) or augmenter.generator
            batches = fixed_batches(loader)
            if hasattr(augmenter, '_finish'):  # its worker processes are not needed
                augmenter._finish()
            self.num_val_iterations_per_epoch = len(batches)
            self.dataloader_val = itertools.cycle(batches)
            self.print_to_log_file(f'validation: all {len(loader.indices)} validation cases '
                                   f'every epoch, the same {len(batches)} batches')

    def on_validation_epoch_end(self, val_outputs):
        """nnU-Net's pseudo Dice of the epoch; then its moving average recomputed with
        ``MMSSL_US_NNUNET_EMA`` where that differs from nnU-Net's 0.9 (the logger applies
        0.9; the average selects ``checkpoint_best.pth`` in ``on_epoch_end``)."""
        super().on_validation_epoch_end(val_outputs)
        if self.ema_weight != NNUNET_EMA:
            series = self.logger.local_logger.my_fantastic_logging['ema_fg_dice']
            value = float(self.logger.get_value('mean_fg_dice', step=-1))
            if len(series) > 1:
                value = self.ema_weight * float(series[-2]) + (1 - self.ema_weight) * value
            series[-1] = value

    def on_train_end(self):
        """nnU-Net's end of training, then its per-epoch log as JSON beside the checkpoints
        (:data:`LOG_FILE`), so that the study reads it without unpickling a checkpoint; the
        progress plot, drawn once here."""
        if getattr(self, '_plot_progress', None) is not None:
            self.logger.plot_progress_png = self._plot_progress
            if self.local_rank == 0:
                self._plot_progress(self.output_folder)
        super().on_train_end()
        if self.local_rank == 0:
            import json
            logging = {k: [float(x) for x in self.logger.get_value(k, step=None)]
                       for k in LOGGED}
            path = os.path.join(self.output_folder, LOG_FILE)
            with open(path + '.tmp', 'w', encoding='utf-8') as f:
                json.dump(logging, f)
            os.replace(path + '.tmp', path)

    def perform_actual_validation(self, save_probabilities: bool = False):
        """nnU-Net's final validation, unless ``MMSSL_US_NNUNET_FINAL_VAL`` is ``0``."""
        flag = os.environ.get('MMSSL_US_NNUNET_FINAL_VAL', '1')
        if flag not in ('0', '1'):
            raise ValueError(f'MMSSL_US_NNUNET_FINAL_VAL must be 0 or 1, got {flag!r}')
        if flag == '0':
            self.print_to_log_file('final validation skipped (MMSSL_US_NNUNET_FINAL_VAL=0)')
            return
        super().perform_actual_validation(save_probabilities)

    def plot_network_architecture(self):
        """Skipped: nnU-Net's graph plot needs hiddenlayer and takes time on CPU."""
