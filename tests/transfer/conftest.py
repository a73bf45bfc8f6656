"""The pretraining tests' tiny DenseCL builder, for checkpoints to convert."""
from pretrain.conftest import build_model, one_torch_thread  # noqa: F401
