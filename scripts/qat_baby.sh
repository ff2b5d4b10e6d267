#!/bin/bash
# Issue 12, deliverable 5: the README's integer-only table on the CPU baby GPT, 3 exact-trained
# seeds. Per seed: the fp32 run (2000 iterations), its integer-only PTQ (10 calibration batches),
# QAT of configs/shakespeare_char_qat.toml (300 iterations from the run's weights; W8A8 and W4A8)
# and the control, the same fine-tune in fp32 (qat=false). Every loss: `lmul eval ... --iters 200` on val. One run at
# a time, one thread, low priority (the machine is shared). Then scripts/qat_baby_table.py prints the table.
#   scripts/qat_baby.sh [LMUL] [RUNS_DIR]      (defaults: build/apps/lmul runs/qat_baby)
set -euo pipefail
L=${1:-build/apps/lmul}
R=${2:-runs/qat_baby}
export OMP_WAIT_POLICY=passive
mkdir -p "$R"
for s in 1 2 3; do
  [ -f "$R/fp32.seed$s/ckpt/latest.safetensors" ] ||
    nice -n 10 "$L" train configs/shakespeare_char_cpu.toml --set threads=1 --set seed=$s --set out_dir="$R/fp32.seed$s" -q
  nice -n 10 "$L" eval "$R/fp32.seed$s" --iters 200 --json > "$R/eval.fp32.seed$s.json"
  nice -n 10 "$L" eval "$R/fp32.seed$s" --iters 200 --integer-only --json > "$R/eval.ptq.seed$s.json"
  nice -n 10 "$L" eval "$R/fp32.seed$s" --iters 200 --integer-only --set int_weight_bits=4 --json \
    > "$R/eval.ptq_w4.seed$s.json"
  for mode in qat ft qat_w4; do
    nice -n 10 "$L" train configs/shakespeare_char_qat.toml --set qat=$([ $mode = ft ] && echo false || echo true) \
      --set int_weight_bits=$([ $mode = qat_w4 ] && echo 4 || echo 8) --set init_from="$R/fp32.seed$s" \
      --set out_dir="$R/$mode.seed$s" --set seed=$s --set threads=1 -q --overwrite
    [ $mode = qat_w4 ] || nice -n 10 "$L" eval "$R/$mode.seed$s" --iters 200 --json > "$R/eval.$mode.fp32.seed$s.json"
    nice -n 10 "$L" eval "$R/$mode.seed$s" --iters 200 --integer-only --json > "$R/eval.$mode.int.seed$s.json"
  done
done
/usr/bin/python3 scripts/qat_baby_table.py "$R"
