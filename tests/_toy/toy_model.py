"""A tiny model and dataset for tool tests (registered in mmengine's root registries)."""
import os
import time

import torch
from mmengine.dataset import BaseDataset
from mmengine.model import BaseModel
from mmengine.registry import DATASETS, MODELS


@MODELS.register_module()
class ToyRegressor(BaseModel):
    """y = w x + b fitted with MSE; sleeps TOY_SLEEP seconds per step so a test can kill it."""

    def __init__(self, features=4):
        super().__init__()
        self.linear = torch.nn.Linear(features, 1)

    def forward(self, inputs, targets=None, mode='tensor', **kwargs):
        inputs = torch.stack(inputs) if isinstance(inputs, (list, tuple)) else inputs
        out = self.linear(inputs)
        if mode == 'loss':
            time.sleep(float(os.environ.get('TOY_SLEEP', '0')))
            targets = torch.stack(targets) if isinstance(targets, (list, tuple)) else targets
            return dict(loss=((out - targets) ** 2).mean())
        return out


@DATASETS.register_module()
class ToyData(BaseDataset):
    """32 fixed random samples."""

    def __init__(self, **kwargs):
        super().__init__(serialize_data=False, lazy_init=False, **kwargs)

    def load_data_list(self):
        g = torch.Generator().manual_seed(123)
        x = torch.randn(32, 4, generator=g)
        y = x.sum(1, keepdim=True) + 0.1 * torch.randn(32, 1, generator=g)
        return [dict(inputs=x[i], targets=y[i]) for i in range(32)]
