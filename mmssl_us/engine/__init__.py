"""Runner parts for every host (registered in mmengine's root registries; no mmpretrain, no
mmseg): :class:`PlainCheckpointHook` writes checkpoints as plain data;
:class:`CPUAutocastOptimWrapper` trains under CPU autocast (bfloat16), where mmengine's
``AmpOptimWrapper`` needs a GPU."""
from .cpu_autocast import CPUAutocastOptimWrapper, cpu_has_fast_bf16
from .plain_checkpoint import PlainCheckpointHook, from_plain, to_plain

__all__ = ['PlainCheckpointHook', 'to_plain', 'from_plain', 'CPUAutocastOptimWrapper',
           'cpu_has_fast_bf16']
