"""CPUAutocastOptimWrapper: the training forward pass in bfloat16, everything else float32."""
import pytest
import torch
from mmengine.model import BaseModel
from mmengine.optim import build_optim_wrapper
from mmengine.registry import OPTIM_WRAPPERS

from mmssl_us.engine import CPUAutocastOptimWrapper


class _Toy(BaseModel):
    """A conv and a linear layer; records the dtype each forward pass computed in."""

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 4, 3, padding=1)
        self.fc = torch.nn.Linear(4, 2)
        self.seen = []

    def forward(self, inputs, labels=None, mode='tensor'):
        feat = self.conv(inputs)
        out = self.fc(feat.mean((2, 3)))
        self.seen.append((mode, feat.dtype, out.dtype))
        if mode == 'loss':
            return {'loss': torch.nn.functional.cross_entropy(out.float(), labels)}
        return [out]


def _data():
    g = torch.Generator().manual_seed(0)
    return dict(inputs=torch.randn(4, 3, 8, 8, generator=g), labels=torch.tensor([0, 1, 0, 1]))


def _wrapper(model, **kw):
    return build_optim_wrapper(model, dict(type='CPUAutocastOptimWrapper',
                                           optimizer=dict(type='SGD', lr=0.1), **kw))


def test_the_training_forward_runs_in_bfloat16_and_the_weights_stay_float32():
    model = _Toy()
    wrapper = _wrapper(model)
    assert isinstance(wrapper, CPUAutocastOptimWrapper)
    before = model.fc.weight.detach().clone()
    log = model.train_step(_data(), wrapper)
    assert model.seen[-1] == ('loss', torch.bfloat16, torch.bfloat16)
    assert torch.isfinite(log['loss'])
    # the update happened, on float32 parameters (train_step zeroes the gradients after it)
    assert not torch.equal(before, model.fc.weight)
    assert all(p.dtype == torch.float32 for p in model.parameters())
    assert all(v.dtype == torch.float32 for state in wrapper.optimizer.state.values()
               for v in state.values() if torch.is_tensor(v))


def test_the_gradients_are_float32():
    model = _Toy()
    wrapper = _wrapper(model)
    with wrapper.optim_context(model):
        loss = model(**_data(), mode='loss')['loss']
    loss.backward()
    assert all(p.grad.dtype == torch.float32 for p in model.parameters())


def test_validation_and_test_forward_stay_float32():
    model = _Toy()
    wrapper = _wrapper(model)
    model.train_step(_data(), wrapper)
    model.val_step(_data())
    model.test_step(_data())
    assert model.seen[-2:] == [('predict', torch.float32, torch.float32)] * 2


def test_the_step_differs_from_float32_only_by_rounding():
    """Same init, same data: one bfloat16 step and one float32 step land close, not equal."""
    torch.manual_seed(0)
    a = _Toy()
    b = _Toy()
    b.load_state_dict(a.state_dict())
    a.train_step(_data(), _wrapper(a))
    b.train_step(_data(), build_optim_wrapper(b, dict(type='OptimWrapper',
                                                      optimizer=dict(type='SGD', lr=0.1))))
    wa, wb = a.fc.weight.detach(), b.fc.weight.detach()
    assert not torch.equal(wa, wb)
    assert torch.allclose(wa, wb, atol=1e-2)


def test_a_bad_dtype_is_refused_by_name():
    with pytest.raises(ValueError, match="dtype must be one of.*'float64'"):
        _wrapper(_Toy(), dtype='float64')


def test_a_model_off_the_cpu_is_refused_naming_the_gpu_wrapper():
    model = _Toy().to('meta')
    wrapper = _wrapper(model)
    with pytest.raises(RuntimeError, match='parameters on meta.*AmpOptimWrapper'):
        with wrapper.optim_context(model):
            pass


@pytest.mark.parametrize('host', ['mmseg', 'mmpretrain'])
def test_each_hosts_registry_finds_it(host):
    import importlib
    registry = importlib.import_module(f'{host}.registry')
    assert registry.OPTIM_WRAPPERS.get('CPUAutocastOptimWrapper') is CPUAutocastOptimWrapper
    assert 'CPUAutocastOptimWrapper' in OPTIM_WRAPPERS.module_dict
