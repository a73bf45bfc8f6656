#!/usr/bin/env bash
# Distributed evaluation on one node with torchrun:
#   bash tools/dist_test.sh CONFIG CHECKPOINT GPUS [test.py options]
set -euo pipefail
if [ $# -lt 3 ]; then echo "usage: $0 CONFIG CHECKPOINT GPUS [options]" >&2; exit 2; fi
DIR="$(cd "$(dirname "$0")" && pwd)"
exec "${PYTHON:-python}" "$DIR/dist_test.py" "$@"
