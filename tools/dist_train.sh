#!/usr/bin/env bash
# Distributed training with torchrun, one process per GPU:
#   bash tools/dist_train.sh CONFIG GPUS [train.py options]
# Several nodes: run it on every node with NNODES, NODE_RANK (0 .. NNODES-1), MASTER_ADDR (the
# address of node 0) and PORT set alike. DRY_RUN=1 prints the command instead of running it.
set -euo pipefail
if [ $# -lt 2 ]; then echo "usage: $0 CONFIG GPUS [options]" >&2; exit 2; fi
CONFIG=$1
GPUS=$2
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}
PYTHON=${PYTHON:-python}
DIR="$(cd "$(dirname "$0")" && pwd)"
CMD=("$PYTHON" -m torch.distributed.run
  --nnodes="$NNODES" --node_rank="$NODE_RANK" --master_addr="$MASTER_ADDR"
  --nproc_per_node="$GPUS" --master_port="$PORT"
  "$DIR/train.py" "$CONFIG" --launcher pytorch "${@:3}")
if [ "${DRY_RUN:-0}" = "1" ]; then
  printf '%q ' "${CMD[@]}"; echo
  exit 0
fi
exec "${CMD[@]}"
