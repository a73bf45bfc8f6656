"""A short nnU-Net trainer for CPU demonstrations and tests (found via ``nnUNet_extTrainer``).

nnU-Net's ``nnUNetTrainer_5epochs`` still runs 250 training and 50 validation iterations an
epoch; this one reads its length from the environment, so that one class serves the tests and
the study: ``MMSSL_US_NNUNET_EPOCHS`` (default 5), ``MMSSL_US_NNUNET_ITERS`` (training
iterations per epoch, default 5) and ``MMSSL_US_NNUNET_VAL_ITERS`` (default 2); ``MMSSL_US_NNUNET_FINAL_VAL=0`` skips nnU-Net's
final validation (its sliding-window, mirrored prediction of every validation case, which the
study does not read: it predicts its own test split); ``MMSSL_US_NNUNET_SEED`` seeds Python's, numpy's
and torch's generators before the network is built (with ``nnUNet_n_proc_DA=0`` the batches
and augmentation are drawn in this process, so a seed repeats a CPU run). Point
``nnUNet_extTrainer`` at this folder (:data:`mmssl_us.volume.nnunet.TRAINERS_DIR`) and run
``nnUNetv2_train D 3d_fullres 0 -tr nnUNetTrainerMMSSLShort -device cpu``. Everything else is
nnU-Net's own training (loss, augmentation, poly learning rate over ``num_epochs``, the
per-epoch ``mean_fg_dice`` / ``ema_fg_dice`` log in the checkpoint's ``logging``).

This file imports nnunetv2 only (nnU-Net imports it by path, outside the package).
"""
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


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, str(default))
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise ValueError(f'{name} must be a positive integer, got {value!r}')
    return number


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
        self.num_val_iterations_per_epoch = _env_int('MMSSL_US_NNUNET_VAL_ITERS', 2)
        self.save_every = self.num_epochs + 1  # only checkpoint_final / checkpoint_best

    def on_train_end(self):
        """nnU-Net's end of training, then its per-epoch log as JSON beside the checkpoints
        (:data:`LOG_FILE`), so that the study reads it without unpickling a checkpoint."""
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
