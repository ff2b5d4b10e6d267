#!/usr/bin/env bash
# Data parallel on one machine: np=1 × 2 threads against np=2 × 1 thread, the same run (the baby
# 4/4/128 GPT, T=64, global batch 12 = batch_size 6 × gradient_accumulation_steps 2, dropout 0),
# interleaved rounds; prints each run's median ms/step and tokens/s from `lmul train`'s last line.
# usage: bench/mpi_speed.sh LMUL DATASET_DIR [ROUNDS] [STEPS]
set -euo pipefail
lmul=$1 data=$2 rounds=${3:-3} steps=${4:-60}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
sets=(--set "dataset=$data" --set n_layer=4 --set n_head=4 --set n_embd=128 --set block_size=64 --set batch_size=6
      --set gradient_accumulation_steps=2 --set dropout=0 --set "max_iters=$steps" --set decay_lr=false
      --set eval_interval=100000 --set eval_iters=1 --set log_interval=100000 --set "out_dir=$out/run")
for r in $(seq 1 "$rounds"); do
  a=$("$lmul" train configs/shakespeare_char_cpu.toml -q --overwrite "${sets[@]}" --set threads=2 2>&1 | grep '^done')
  b=$(mpirun --oversubscribe --bind-to none -np 2 "$lmul" train configs/shakespeare_char_cpu.toml -q --overwrite \
        "${sets[@]}" --set threads=1 2>&1 | grep '^done')
  echo "round $r np=1x2threads: $a"
  echo "round $r np=2x1thread:  $b"
done
