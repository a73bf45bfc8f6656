"""Mixed precision for training on CPU: :class:`CPUAutocastOptimWrapper`.

mmengine's ``AmpOptimWrapper`` refuses to build without a GPU (0.10.7 asserts CUDA, NPU, MLU or
MUSA), although ``torch.autocast('cpu', dtype=torch.bfloat16)`` runs the convolutions and
matrix products of a training step in bfloat16 on a CPU that has the instructions for it
(AVX512-BF16 or AMX). This wrapper is mmengine's plain ``OptimWrapper`` whose forward pass
(``optim_context``, the context mmengine's ``train_step`` puts the model's loss computation
in) runs under that autocast:

- the parameters, their gradients and the optimizer state stay float32 (autocast casts copies
  of the weights for each op; the update is float32), and so do the ops torch keeps in float32
  under CPU autocast (batch norm, softmax, the losses);
- no loss scaling: bfloat16 has float32's exponent range, so gradients do not underflow the
  way float16 ones do (torch's GradScaler is a float16 tool);
- validation and test are not touched: mmengine's ``val_step`` / ``test_step`` do not enter
  ``optim_context``, so every metric is computed from a float32 forward pass.

It changes the numbers of training (bfloat16 keeps 8 bits of mantissa), so it is a protocol
setting, to be judged on validation like any other: ``benchmarks/bench_study_run.py --compare
precision`` runs float32 and bfloat16 side by side. On a model with parameters off the CPU it
refuses to start (CPU autocast would silently leave a GPU's ops in float32; mmengine's
``AmpOptimWrapper`` is the GPU's wrapper).

Use it from a config as ``optim_wrapper = dict(type='CPUAutocastOptimWrapper',
optimizer=..., dtype='bfloat16')``; it is registered in mmengine's root ``OPTIM_WRAPPERS``, so
mmseg's and mmpretrain's runners find it.
"""
from contextlib import contextmanager

import torch
from mmengine.logging import print_log
from mmengine.optim import OptimWrapper
from mmengine.registry import OPTIM_WRAPPERS

#: the dtypes CPU autocast runs in
CPU_AUTOCAST_DTYPES = ('bfloat16', 'float16')


def cpu_has_fast_bf16() -> bool:
    """Whether oneDNN has native bfloat16 kernels on this CPU (without them torch emulates
    bfloat16, which is correct but slower than float32)."""
    check = getattr(torch.ops.mkldnn, '_is_mkldnn_bf16_supported', None)
    try:
        return bool(check()) if check is not None else False
    except RuntimeError:
        return False


@OPTIM_WRAPPERS.register_module()
class CPUAutocastOptimWrapper(OptimWrapper):
    """``OptimWrapper`` whose training forward pass runs under CPU autocast.

    Args:
        dtype (str): ``'bfloat16'`` (default) or ``'float16'``.
        **kwargs: ``OptimWrapper``'s (``optimizer``, ``clip_grad``, ``accumulative_counts``).
    """

    def __init__(self, dtype: str = 'bfloat16', **kwargs):
        if dtype not in CPU_AUTOCAST_DTYPES:
            raise ValueError(f'CPUAutocastOptimWrapper: dtype must be one of '
                             f'{CPU_AUTOCAST_DTYPES}, got {dtype!r}')
        super().__init__(**kwargs)
        self.cast_dtype = getattr(torch, dtype)
        self._checked = False
        if dtype == 'bfloat16' and not cpu_has_fast_bf16():
            print_log('CPUAutocastOptimWrapper: this CPU has no native bfloat16 kernels '
                      '(AVX512-BF16 / AMX); torch emulates them, so training is likely slower '
                      'than in float32', logger='current', level=30)

    @contextmanager
    def optim_context(self, model: torch.nn.Module):
        if not self._checked:
            devices = sorted({p.device.type for p in model.parameters()})
            if devices and devices != ['cpu']:
                raise RuntimeError(
                    f'CPUAutocastOptimWrapper runs the forward pass under CPU autocast, but '
                    f'the model has parameters on {", ".join(devices)}: CPU autocast would '
                    f'leave those ops in float32. On a GPU use mmengine\'s AmpOptimWrapper '
                    f'(optim_wrapper.type=AmpOptimWrapper).')
            self._checked = True
        with super().optim_context(model), torch.autocast('cpu', dtype=self.cast_dtype):
            yield
