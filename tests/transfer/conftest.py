"""The pretraining tests' tiny DenseCL builder (for checkpoints to convert) and media writers."""
from pretrain.conftest import build_model, media, one_torch_thread  # noqa: F401
