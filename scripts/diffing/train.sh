#!/usr/bin/env bash
# Trains the runs the diffing ground truth reads (docs/results/diffing.md), per seed, into runs/diffing/:
#   side-plain-seedS         recipes/side-plain.yaml with a checkpoint every 10 steps (all kept)
#   side-plain-early-seedS   the same run's first 60 steps (identical: same seed and schedule), a checkpoint every 2
#   forgetting-pretrain-seedS, forgetting-none-seedS, forgetting-attribution-seedS
# Usage: scripts/diffing/train.sh [SEEDS...]   (default 0 1 2 3 4; run under nice on a shared machine)
set -euo pipefail
cd "$(dirname "$0")/../.."
seeds=("$@")
[ $# -eq 0 ] && seeds=(0 1 2 3 4)
for s in "${seeds[@]}"; do
  common=(--set "run.seed=$s" --set tracking.uri=none)
  npx bonsai train recipes/side-plain.yaml "${common[@]}" --set "run.out_dir=runs/diffing/side-plain-seed$s" \
    --set checkpoint.every=10 --set checkpoint.keep=100
  npx bonsai train recipes/side-plain.yaml "${common[@]}" --set "run.out_dir=runs/diffing/side-plain-early-seed$s" \
    --set checkpoint.every=2 --set checkpoint.keep=100 --stop-after 60
  npx bonsai train recipes/forgetting-pretrain.yaml "${common[@]}" --set "run.out_dir=runs/diffing/forgetting-pretrain-seed$s"
  base=$(ls -d runs/diffing/forgetting-pretrain-seed$s/step-* | tail -1)
  for arm in none attribution; do
    npx bonsai train recipes/forgetting-$arm.yaml "${common[@]}" --set "run.out_dir=runs/diffing/forgetting-$arm-seed$s" \
      --set "model.init.checkpoint=$base"
  done
done
