"""SaveStartWeightsHook writes the weights before the first step, and a resume keeps them."""
import os.path as osp

import pytest
import torch
from mmengine.hooks import Hook
from mmengine.runner import Runner

from mmssl_us.checkpoint import safe_load
from mmssl_us.pretrain.hooks import SaveStartWeightsHook

from .test_queue_hook import tiny_cfg

pytestmark = pytest.mark.usefixtures('cheap_config_text')


@pytest.mark.slow
def test_start_weights_are_the_weights_before_the_first_step(tmp_path, media):
    cfg = tiny_cfg(tmp_path, media, n_images=8)  # 2 iterations
    assert any(h['type'] == 'SaveStartWeightsHook' for h in cfg.custom_hooks)
    grabbed = {}

    class _Grab(Hook):
        priority = 'LOWEST'

        def before_train_iter(self, runner, batch_idx, data_batch=None):
            if runner.iter == 0:
                grabbed.update({k: v.clone() for k, v in runner.model.state_dict().items()})

    runner = Runner.from_cfg(cfg)
    runner.register_hook(_Grab())
    runner.train()
    saved = safe_load(osp.join(cfg.work_dir, 'start_weights.pth'))
    assert saved['meta']['iter'] == 0
    assert set(saved['state_dict']) == set(grabbed)
    for key, value in grabbed.items():
        assert torch.equal(saved['state_dict'][key], value), key
    # and training moved the backbone away from them
    end = runner.model.state_dict()
    key = 'backbone.layer1.0.conv1.weight'
    assert not torch.equal(end[key], saved['state_dict'][key])

    # a resumed run (iteration > 0) leaves the file as it was
    mtime = osp.getmtime(osp.join(cfg.work_dir, 'start_weights.pth'))
    cfg2 = tiny_cfg(tmp_path, media, n_images=8, epochs=2)
    cfg2.resume = True
    cfg2.experiment_name = 'resumed'
    Runner.from_cfg(cfg2).train()
    assert osp.getmtime(osp.join(cfg.work_dir, 'start_weights.pth')) == mtime
    again = safe_load(osp.join(cfg.work_dir, 'start_weights.pth'))
    assert torch.equal(again['state_dict'][key], saved['state_dict'][key])


@pytest.mark.parametrize('name', ['', 'a/b.pth', 3])
def test_bad_file_name_is_refused(name):
    with pytest.raises(ValueError, match='plain file name'):
        SaveStartWeightsHook(filename=name)
