#!/usr/bin/env bash
# Data parallel on one machine: np=1 × 2 threads against np=2 × 1 thread, the same run, interleaved
# rounds; prints each run's median ms/step and tokens/s from `lmul train`'s last line.
# usage: bench/mpi_speed.sh LMUL DATASET_DIR [ROUNDS] [STEPS] [MODEL]
#   MODEL baby (default): configs/shakespeare_char_cpu.toml as the baby 4/4/128 GPT, T=64, global
#         batch 12 = batch_size 6 × gradient_accumulation_steps 2 (DATASET_DIR: char-level)
#   MODEL 6layer: configs/shakespeare_char.toml (6/6/384, T=256), batch_size 8 × 2 (DATASET_DIR: char-level)
#   MODEL gpt2: configs/openwebtext_gpt2_124m.toml (GPT-2 124M, T=1024), batch_size 1 × 2
#         (DATASET_DIR: prepared by `lmul prepare gpt2`)
# BATCH=B replaces the batch_size of 6layer and gpt2. Dropout 0, no evaluation until the last step (eval_iters 1), --bind-to none. With RSS=1 every
# process (the one of np=1, each rank of np=2) runs under /usr/bin/time and its peak resident set
# is printed (`maxrss_kb`).
set -euo pipefail
lmul=$1 data=$2 rounds=${3:-3} steps=${4:-60} model=${5:-baby}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
case $model in
  baby) config=configs/shakespeare_char_cpu.toml
        sets=(--set n_layer=4 --set n_head=4 --set n_embd=128 --set block_size=64 --set batch_size=6) ;;
  6layer) config=configs/shakespeare_char.toml sets=(--set "batch_size=${BATCH:-8}") ;;
  gpt2) config=configs/openwebtext_gpt2_124m.toml sets=(--set "batch_size=${BATCH:-1}") ;;
  *) echo "mpi_speed.sh: MODEL is baby, 6layer or gpt2, not '$model'" >&2; exit 2 ;;
esac
sets+=(--set "dataset=$data" --set gradient_accumulation_steps=2 --set dropout=0 --set "max_iters=$steps"
       --set decay_lr=false --set eval_interval=100000 --set eval_iters=1 --set log_interval=100000
       --set "out_dir=$out/run")
timed=()
[[ ${RSS:-0} == 1 ]] && timed=(/usr/bin/time -f "maxrss_kb %M")
for r in $(seq 1 "$rounds"); do
  a=$("${timed[@]}" "$lmul" train "$config" -q --overwrite "${sets[@]}" --set threads=2 2>&1 | grep '^done\|^maxrss')
  b=$(mpirun --oversubscribe --bind-to none -np 2 "${timed[@]}" "$lmul" train "$config" -q --overwrite \
        "${sets[@]}" --set threads=1 2>&1 | grep '^done\|^maxrss')
  echo "round $r np=1x2threads: $a"
  echo "round $r np=2x1thread:  $b"
done
