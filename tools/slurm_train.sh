#!/usr/bin/env bash
# Training on a Slurm cluster, one task per GPU (mmengine's slurm launcher reads SLURM_PROCID,
# SLURM_NTASKS, SLURM_NODELIST and picks the master from the node list), as mmseg's script:
#   [GPUS=8] [GPUS_PER_NODE=8] [CPUS_PER_TASK=5] [SRUN_ARGS="..."] [DRY_RUN=1] \
#     bash tools/slurm_train.sh PARTITION JOB_NAME CONFIG [WORK_DIR] [train.py options]
# GPUS is the total over all nodes (GPUS=16 GPUS_PER_NODE=8: 2 nodes). A fourth argument that
# does not start with '-' is the work dir (older mmseg form); otherwise train.py's default or
# --work-dir. DRY_RUN=1 (or --dry-run among the options) prints the srun command instead of
# running it. PORT sets the master port (mmengine's default is 29500).
set -euo pipefail
if [ $# -lt 3 ]; then
  echo "usage: $0 PARTITION JOB_NAME CONFIG [WORK_DIR] [train.py options]" >&2; exit 2
fi
PARTITION=$1
JOB_NAME=$2
CONFIG=$3
shift 3
WORK_ARGS=()
if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then
  WORK_ARGS=(--work-dir="$1")
  shift
fi
DRY_RUN=${DRY_RUN:-0}
PY_ARGS=()
for arg in "$@"; do
  if [ "$arg" = "--dry-run" ]; then DRY_RUN=1; else PY_ARGS+=("$arg"); fi
done
GPUS=${GPUS:-8}
GPUS_PER_NODE=${GPUS_PER_NODE:-8}
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
SRUN_ARGS=${SRUN_ARGS:-""}
PYTHON=${PYTHON:-python}
for name in GPUS GPUS_PER_NODE CPUS_PER_TASK; do
  value=${!name}
  if ! [[ "$value" =~ ^[1-9][0-9]*$ ]]; then
    echo "$0: $name must be a positive integer, got '$value'" >&2; exit 2
  fi
done
if [ "$GPUS" -lt "$GPUS_PER_NODE" ]; then
  GPUS_PER_NODE=$GPUS  # a job smaller than one node asks for what it uses
fi
if [ $((GPUS % GPUS_PER_NODE)) -ne 0 ]; then
  echo "$0: GPUS=$GPUS is not a multiple of GPUS_PER_NODE=$GPUS_PER_NODE" >&2; exit 2
fi
DIR="$(cd "$(dirname "$0")" && pwd)"
if [ -n "${PORT:-}" ]; then export MASTER_PORT=$PORT; fi
read -r -a EXTRA <<< "$SRUN_ARGS"
CMD=(srun -p "$PARTITION" --job-name="$JOB_NAME" --gres=gpu:"$GPUS_PER_NODE"
     --ntasks="$GPUS" --ntasks-per-node="$GPUS_PER_NODE" --cpus-per-task="$CPUS_PER_TASK"
     --kill-on-bad-exit=1 ${EXTRA[@]+"${EXTRA[@]}"}
     "$PYTHON" -u "$DIR/train.py" "$CONFIG" ${WORK_ARGS[@]+"${WORK_ARGS[@]}"}
     --launcher slurm ${PY_ARGS[@]+"${PY_ARGS[@]}"})
if [ "$DRY_RUN" = "1" ]; then
  printf '%q ' "${CMD[@]}"; echo
  exit 0
fi
exec "${CMD[@]}"
