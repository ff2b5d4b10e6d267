#!/bin/bash
# Issue 13, deliverable 6: the README's architecture table on Tiny Shakespeare (char level), ~0.8M
# parameters, the same token budget (2000 iterations × 12 × 64 tokens), 3 seeds: nanoGPT's baby GPT in
# fp32, the same GPT with every Linear layer and the head ternary, and the MatMul-free LM (ternary
# BitLinear everywhere). Per run: val loss (`lmul eval --iters 200`), training speed (the run's
# median ms/step), generation (1,000 tokens, minus the same command with 0 tokens: loading) and the
# exported size (F32, and packed ternary codes). One run at a time, one thread, low priority.
# Then scripts/matmulfree_results_table.py prints the table, and `lmul compare` the loss curves.
#   scripts/matmulfree_results.sh [LMUL] [RUNS_DIR]      (defaults: build/apps/lmul runs/matmulfree_results)
# Run from the repository root after
#   lmul prepare char --input ../shared/data/tinyshakespeare/input.txt --out datasets/shakespeare_char
set -euo pipefail
L=${1:-build/apps/lmul}
R=${2:-runs/matmulfree_results}
export OMP_WAIT_POLICY=passive OMP_NUM_THREADS=1
mkdir -p "$R"
run() {  # name config overrides...
  local name=$1 cfg=$2
  shift 2
  [ -f "$R/$name/ckpt/latest.safetensors" ] ||
    nice -n 10 "$L" train "$cfg" --set threads=1 --set out_dir="$R/$name" -q --overwrite "$@"
  nice -n 10 "$L" eval "$R/$name" --iters 200 --json > "$R/$name.eval.json"
  nice -n 10 "$L" export "$R/$name" --out "$R/$name.f32.safetensors" > /dev/null
  nice -n 10 "$L" export "$R/$name" --out "$R/$name.ternary.safetensors" --format ternary > /dev/null
  local t0 t1 t2
  t0=$(date +%s.%N)
  nice -n 10 "$L" sample "$R/$name" --max-new-tokens 0 > /dev/null
  t1=$(date +%s.%N)
  nice -n 10 "$L" sample "$R/$name" --max-new-tokens 1000 > "$R/$name.sample.txt"
  t2=$(date +%s.%N)
  echo "{\"load_s\": $(awk "BEGIN{print $t1 - $t0}"), \"with_1000_s\": $(awk "BEGIN{print $t2 - $t1}")}" > "$R/$name.sample.json"
}
for s in 1 2 3; do
  run gpt_exact.seed$s configs/shakespeare_char_cpu.toml --set seed=$s
  run gpt_ternary.seed$s configs/shakespeare_char_cpu.toml --set seed=$s --set arith.linear=ternary \
    --set arith.head=ternary
  run matmulfree.seed$s configs/matmulfree_shakespeare_char_cpu.toml --set seed=$s
done
/usr/bin/python3 scripts/matmulfree_results_table.py "$R"
