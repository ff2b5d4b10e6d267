#!/usr/bin/env bash
# Interleaved GPT-2 BPE encode benchmark: lmul (cold and warm cache, 1 and N threads) and
# tiktoken (npm, 1 thread), ROUNDS rounds alternating the two, then the median of each line.
#   bench/run_bpe_bench.sh [ROUNDS] [DATA_DIR]    (run from the repository root after building)
# Needs `npm install` in bench/ for tiktoken; skips it when node or the package is missing.
set -euo pipefail
rounds=${1:-5}
data=${2:-../shared/data}
bench=${LMUL_BPE_BENCH:-./build/bench/lmul_bpe_bench}
inputs=("$data/owt_sample/openwebtext_hf_first100.txt" "$data/owt_sample/pydocs_3.11")
log=$(mktemp)
have_node=0
if command -v node >/dev/null && [ -d bench/node_modules/tiktoken ]; then have_node=1; fi
for ((i = 0; i < rounds; ++i)); do
  "$bench" --vocab "$data/gpt2" --runs 1 "${inputs[@]}" | grep '^RESULT' >>"$log"
  if ((have_node)); then node bench/bpe_tiktoken.mjs --runs 1 "${inputs[@]}" | grep '^RESULT' >>"$log"; fi
done
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); $(date -u +%FT%TZ); $rounds interleaved rounds"
# Median over rounds of each (tool, mode, threads) line; tokens column as a check.
awk '{key=$2" "$3" "$4; v[key]=v[key]" "$5; tok[key]=$(NF-1)}
     END {for (k in v) {n=split(substr(v[k],2),a," "); asort(a); m=(n%2)?a[(n+1)/2]:(a[n/2]+a[n/2+1])/2;
          printf "%-38s %8.2f MB/s  (median of %d; %s tokens)\n", k, m, n, tok[k]}}' "$log" | sort
rm -f "$log"
