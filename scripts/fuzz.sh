#!/usr/bin/env bash
# Builds the libFuzzer targets (build-fuzz: clang 14, ASan + UBSan, -DLMUL_FUZZ=ON) and runs each
# one for SECONDS (default 60) on a scratch copy of its committed corpus fuzz/corpus/TARGET (the
# committed corpus is not changed), with its dictionary fuzz/dict/*.dict where there is one.
# Caps (the contract, RELIABILITY.md): 1 s per input, 2048 MB resident, 512 MB per allocation.
# Prints per target: executions, edges (libFuzzer's cov), corpus size, pass/FAIL; exits 1 if any
# target crashed, hung, ran out of its memory caps or broke a property, leaving the input that did
# it under build-fuzz/artifacts/. Usage: scripts/fuzz.sh [SECONDS] [TARGET...]
# FUZZ_SEED=N fixes libFuzzer's random seed (CI does, so that a failure there replays here with the
# same seed); unset, every run explores afresh.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
all=(config arith_spec sweep checkpoint export dataset bpe_encode bpe_decode bpe_vocab metrics)
targets=("${all[@]}")
if (($#)); then targets=("$@"); fi
declare -A dict=([config]=config [arith_spec]=arith_spec [sweep]=sweep [checkpoint]=safetensors
                 [export]=safetensors [dataset]=json [metrics]=json [bpe_vocab]=json)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "fuzz: building build-fuzz (clang, -DLMUL_FUZZ=ON)"
if ! { CXX=clang++ CC=clang cmake -S . -B build-fuzz -DLMUL_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo &&
       cmake --build build-fuzz -j"$(nproc)" --target lmul_fuzzers; } >"$work/build.log" 2>&1; then
  tail -40 "$work/build.log"
  echo "fuzz: the build failed"
  exit 1
fi
artifacts=build-fuzz/artifacts
mkdir -p "$artifacts"
export OMP_NUM_THREADS=1
failed=()
printf '%-12s %12s %8s %14s  %s\n' target executions edges corpus result
for t in "${targets[@]}"; do
  cp -r "fuzz/corpus/$t" "$work/$t"
  args=(-max_total_time="$seconds" -timeout=1 -rss_limit_mb=2048 -malloc_limit_mb=512 -print_final_stats=1
        -artifact_prefix="$artifacts/$t-")
  [[ -n "${FUZZ_SEED:-}" ]] && args+=(-seed="$FUZZ_SEED")
  [[ -n "${dict[$t]:-}" ]] && args+=(-dict="fuzz/dict/${dict[$t]}.dict")
  rc=0
  "build-fuzz/fuzz/fuzz_$t" "${args[@]}" "$work/$t" >"$work/$t.log" 2>&1 || rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$t.log" | tail -1)
  status=$(grep -E '^#[0-9]+' "$work/$t.log" | grep -o 'cov: [0-9]*.*corp: [0-9]*/[0-9a-zA-Z]*' | tail -1 || true)
  edges=$(sed -n 's/^cov: \([0-9]*\).*/\1/p' <<<"$status")
  corpus=$(sed -n 's/.*corp: \([0-9]*\/[0-9a-zA-Z]*\)/\1/p' <<<"$status")
  result=pass
  if ((rc != 0)); then
    result="FAIL (exit $rc)"
    failed+=("$t")
  fi
  printf '%-12s %12s %8s %14s  %s\n' "$t" "${execs:-?}" "${edges:-?}" "${corpus:-?}" "$result"
  if ((rc != 0)); then
    echo "---- fuzz_$t log (tail) ----"
    grep -v -E '^#[0-9]+|^INFO:|^MS:' "$work/$t.log" | tail -40
    cp "$work/$t.log" "$artifacts/$t.log"
    echo "---- (whole log: $artifacts/$t.log; reproduce: build-fuzz/fuzz/fuzz_$t $artifacts/$t-*) ----"
  fi
done
if ((${#failed[@]})); then
  echo "fuzz: FAILED: ${failed[*]}"
  exit 1
fi
echo "fuzz: every target passed (${seconds} s each)"
