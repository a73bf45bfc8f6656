#!/usr/bin/env bash
# Set up mmssl_us in ./.venv: torch, torchvision, mmcv 2.1.0 built against that torch,
# mmengine, mmsegmentation, mmpretrain, the plugin itself (editable), and, optional but
# installed, mmdetection 3.3.0 for the detection transfer (configs/faster_rcnn): when that step
# fails the set-up says so and finishes without it (tests that need mmdet skip); tensorboard
# (optional the same way) for tools/train.py --tensorboard / MMSSL_US_TENSORBOARD=1; nnunetv2
# 2.8.x (optional the same way) for the 3D path (mmssl_us/volume,
# configs/study/volume_quickstart.py).
#
# Idempotent: a second run checks what is installed and installs nothing it does not need.
# Where the base Python already has torch (a GPU box with its own CUDA build), the venv sees it
# (--system-site-packages) and keeps it; mmcv is then built against that torch.
#
# Environment knobs:
#   MMSSL_US_BASE_PYTHON   the interpreter the venv is made from (default: python3.11 or python3)
#   MMSSL_US_WHEELHOUSE    extra folder of prebuilt wheels (e.g. a cached mmcv build)
#   MMSSL_US_MMCV_CUDA=1   build mmcv's CUDA ops too (default: CPU ops only; FCN/ResNet need none)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
cd "$ROOT"

say() { printf '[setup] %s\n' "$*"; }
die() { printf '[setup] ERROR: %s\n' "$*" >&2; exit 1; }

base="${MMSSL_US_BASE_PYTHON:-}"
if [ -z "$base" ]; then
  if command -v python3.11 >/dev/null 2>&1; then base=python3.11; else base=python3; fi
fi
command -v "$base" >/dev/null 2>&1 || die "no Python interpreter '$base' found; set MMSSL_US_BASE_PYTHON"
"$base" -c 'import sys; assert sys.version_info >= (3, 9), sys.version' \
  || die "$base is older than Python 3.9"

# pip find-links: our own (possibly empty) wheelhouse replaces any machine-wide find-links
# folder, so that a local '+cpu' torch wheel without a matching torchvision is not picked up
# (see README, "Pins"). A cache of prebuilt wheels can be added with MMSSL_US_WHEELHOUSE; a
# team cache next to the checkout (../shared/wheels) is used when present.
mkdir -p "$ROOT/.wheelhouse"
links="$ROOT/.wheelhouse"
[ -n "${MMSSL_US_WHEELHOUSE:-}" ] && links="$links ${MMSSL_US_WHEELHOUSE}"
[ -d "$ROOT/../shared/wheels" ] && links="$links $(cd "$ROOT/../shared/wheels" && pwd)"
export PIP_FIND_LINKS="$links"
export PIP_DISABLE_PIP_VERSION_CHECK=1

if [ ! -x "$VENV/bin/python" ]; then
  "$base" -m venv "$VENV"
  if "$base" -c 'import torch' >/dev/null 2>&1; then
    # Keep the base's torch (and its CUDA build): its site-packages go on the venv's path after
    # the venv's own (a .pth file; unlike --system-site-packages this also works when the base
    # is itself a venv or conda env). pip in the venv then sees torch as installed.
    say "base Python has torch $("$base" -c 'import torch; print(torch.__version__)'): keeping it"
    site_dir="$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
    "$base" -c 'import site, sys; print("\n".join(site.getsitepackages()))' > "$site_dir/_mmssl_us_base_site.pth"
  fi
fi
PY="$VENV/bin/python"
# pip warns about every machine-wide index folder that lacks a package; keep real errors only.
pip_install() {
  "$PY" -m pip install -q "$@" 2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
}

# Optional: mmdet 3.3.0 is pure Python; --no-deps keeps pip from touching mmcv (mmdet asserts
# mmcv < 2.2.0, which 2.1.0 meets), then only what mmdet imports at run time. A failure (no
# registry, say) is reported and the set-up goes on without it.
install_mmdet() {
  if "$PY" "$ROOT/tools/check_env.py" --optional --group mmdet --quiet 2>/dev/null; then
    return 0
  fi
  say "installing mmdet 3.3.0 (optional: detection transfer, configs/faster_rcnn)"
  if pip_install --no-deps "mmdet==3.3.0" && pip_install pycocotools shapely terminaltables six tqdm \
      && "$PY" "$ROOT/tools/check_env.py" --optional --group mmdet --quiet; then
    say "mmdet 3.3.0 installed"
  else
    say "WARNING: mmdet could not be installed; everything else works, the detection config"
    say "         and its tests are unavailable (they skip). Retry: bash tools/setup.sh"
  fi
}

# Optional: TensorBoard logging (tools/train.py --tensorboard, MMSSL_US_TENSORBOARD=1) through
# mmengine's TensorboardVisBackend (torch.utils.tensorboard). A failure is reported and the
# set-up goes on without it (its tests skip).
install_tensorboard() {
  if "$PY" "$ROOT/tools/check_env.py" --optional --group tensorboard --quiet 2>/dev/null; then
    return 0
  fi
  say "installing tensorboard (optional: --tensorboard / MMSSL_US_TENSORBOARD=1)"
  if pip_install tensorboard \
      && "$PY" "$ROOT/tools/check_env.py" --optional --group tensorboard --quiet; then
    say "tensorboard installed"
  else
    say "WARNING: tensorboard could not be installed; everything else works, --tensorboard"
    say "         is unavailable (its tests skip). Retry: bash tools/setup.sh"
  fi
}

# Optional: nnU-Net v2 (2.8.x) for the 3D path. It declares torch, numpy, scipy, ... without
# upper bounds; a constraints file pins what is installed now (torch, numpy, mmcv, mmengine,
# mmseg, mmpretrain, ...) so that pip can add nnU-Net's own dependencies (batchgenerators,
# dynamic-network-architectures, SimpleITK, acvl-utils, blosc2, timm, ...) but cannot change
# those (docs/ENVIRONMENT.md). A failure is reported and the set-up goes on without it (the 3D
# tests skip).
install_nnunet() {
  if "$PY" "$ROOT/tools/check_env.py" --optional --group nnunet --quiet 2>/dev/null; then
    return 0
  fi
  say "installing nnunetv2 2.8.x (optional: 3D Models Genesis + nnU-Net, mmssl_us/volume)"
  local constraints
  constraints="$(mktemp)"
  "$PY" - > "$constraints" <<'PYEOF'
from importlib.metadata import PackageNotFoundError, version
for name in ('torch', 'torchvision', 'numpy', 'mmcv', 'mmengine', 'mmsegmentation',
             'mmpretrain', 'opencv-python', 'setuptools'):
    try:
        print(f'{name}=={version(name)}')
    except PackageNotFoundError:
        pass
PYEOF
  if pip_install -c "$constraints" "nnunetv2==2.8.*" \
      && "$PY" "$ROOT/tools/check_env.py" --optional --group nnunet --quiet; then
    say "nnunetv2 installed"
  else
    say "WARNING: nnunetv2 could not be installed; everything else works, the 3D path"
    say "         (mmssl_us/volume) is unavailable (its tests skip). Retry: bash tools/setup.sh"
  fi
  rm -f "$constraints"
}

# Fast path: everything importable at the right versions -> only the optional step if missing.
if "$PY" "$ROOT/tools/check_env.py" --quiet 2>/dev/null; then
  install_mmdet
  install_tensorboard
  install_nnunet
  say "environment already complete ($VENV)"
  exit 0
fi

pip_install --upgrade pip
pip_install "setuptools>=77.0.3,<81" wheel ninja psutil

if "$PY" -c 'import torch' >/dev/null 2>&1; then
  say "torch $("$PY" -c 'import torch; print(torch.__version__)') present: keeping it"
else
  say "installing torch 2.13.0 + torchvision 0.28.0 (several GB on Linux; about a minute on a fast link)"
  pip_install "torch==2.13.0" "torchvision==0.28.0"
fi
"$PY" - <<'EOF' || die "torch >= 2.14 needs C++20, which mmcv 2.1.0's sources cannot build with; use torch <= 2.13"
import torch
major, minor = (int(x) for x in torch.__version__.split('+')[0].split('.')[:2])
assert (major, minor) < (2, 14), torch.__version__
EOF
if ! "$PY" -c 'import torchvision' >/dev/null 2>&1; then
  tv="$("$PY" -c 'import torch; v=torch.__version__.split("+")[0].split("."); print(f"0.{int(v[1])+15}")')"
  say "installing torchvision $tv.* to match the installed torch"
  pip_install "torchvision==$tv.*"
fi

pip_install numpy opencv-python matplotlib scipy scikit-learn nibabel pytest

if ! "$PY" -c 'import mmcv, mmcv.ops; assert mmcv.__version__ == "2.1.0"' >/dev/null 2>&1; then
  say "installing mmcv 2.1.0 with ops, built against this torch (no wheel on PyPI: a from-source"
  say "build takes 15-25 minutes on 2 cores the first time; pip caches the wheel for later runs)"
  if [ "${MMSSL_US_MMCV_CUDA:-0}" = "1" ]; then
    MMCV_WITH_OPS=1 FORCE_CUDA=1 "$PY" -m pip install --no-build-isolation "mmcv==2.1.0"
  else
    MMCV_WITH_OPS=1 CUDA_VISIBLE_DEVICES= FORCE_CUDA=0 "$PY" -m pip install --no-build-isolation "mmcv==2.1.0"
  fi
fi

pip_install "mmengine==0.10.7" "mmsegmentation==1.2.2" "mmpretrain==1.2.0" ftfy regex
pip_install --no-build-isolation --no-deps -e "$ROOT"

"$PY" "$ROOT/tools/check_env.py" || die "the environment is incomplete (see above)"
install_mmdet
install_tensorboard
install_nnunet
say "done: $VENV"
