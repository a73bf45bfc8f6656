"""Save the model exactly as a pretraining starts, for the same-start control of a study.

A pretrained backbone differs from a randomly initialised one in two things: the weights it
learnt, and the scheme and seed it was initialised with (mmpretrain's DenseCL configs use
``zero_init_residual=False``, mmseg's random backbones ``True``). To measure what pretraining
itself added, a study fine-tunes the pretraining's own starting point as one more arm. This hook
writes that starting point once, before the first training step, as an ordinary checkpoint
(``{'state_dict', 'meta'}``) that the transfer step converts like any other.
"""
import os.path as osp

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmpretrain.registry import HOOKS

from ...fileio import atomic_save

__all__ = ['SaveStartWeightsHook']


@HOOKS.register_module()
class SaveStartWeightsHook(Hook):
    """Write ``<work_dir>/<filename>`` with the weights the training starts from.

    Written in ``before_train`` of a run that starts at iteration 0 (after the weights were
    initialised and any ``load_from`` applied); a resumed run (iteration > 0) leaves the file
    alone, so it always holds the weights before the first step.

    Args:
        filename (str): File name inside the work dir. Defaults to 'start_weights.pth'.
    """

    priority = 'VERY_HIGH'

    def __init__(self, filename: str = 'start_weights.pth') -> None:
        if not isinstance(filename, str) or not filename or osp.basename(filename) != filename:
            raise ValueError(f'filename must be a plain file name, got {filename!r}')
        self.filename = filename

    def before_train(self, runner) -> None:
        path = osp.join(runner.work_dir, self.filename)
        if runner.iter > 0:
            if not osp.isfile(path):
                runner.logger.warning(
                    f'{path} is missing and this run resumed at iteration {runner.iter}: the '
                    'starting weights can no longer be saved exactly')
            return
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
        atomic_save({'state_dict': state,
                     'meta': dict(epoch=0, iter=0, seed=runner.seed,
                                  note='weights before the first pretraining step')}, path)
        runner.logger.info(f'starting weights (before any step) saved to {path}')
