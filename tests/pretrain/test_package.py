"""What mmssl_us.pretrain says it registers is what it registers (issue 19: the docstring and
``__all__`` had left out the Models Genesis classes and three hooks)."""
from mmpretrain.registry import DATASETS, HOOKS, MODELS, TRANSFORMS

import mmssl_us.pretrain as pretrain


def test_every_registered_component_is_exported_and_documented():
    ours = sorted(name for registry in (MODELS, HOOKS, DATASETS, TRANSFORMS)
                  for name, cls in registry.module_dict.items()
                  if cls.__module__.startswith('mmssl_us.pretrain.'))
    assert {'ModelsGenesis', 'GenesisDecoder', 'SaveStartWeightsHook', 'DenseProbeHook',
            'UltrasoundDenseCL'} <= set(ours)
    assert set(ours) <= set(pretrain.__all__), set(ours) - set(pretrain.__all__)
    missing = [name for name in ours if f'``{name}``' not in pretrain.__doc__]
    assert not missing, missing
    for name in pretrain.__all__:
        assert getattr(pretrain, name) is not None
