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
# Median over rounds of each (tool, mode, threads) line; the token count as a check.
awk '{print $2" "$3" "$4}' "$log" | sort -u | while read -r tool mode threads; do
  vals=$(awk -v k="$tool $mode $threads" '$2" "$3" "$4 == k {print $5}' "$log" | sort -g)
  tokens=$(awk -v k="$tool $mode $threads" '$2" "$3" "$4 == k {print $(NF-1)}' "$log" | sort -u | paste -sd/)
  n=$(echo "$vals" | wc -l)
  median=$(echo "$vals" | awk -v n="$n" '{a[NR]=$1} END {print (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2}')
  printf "%-10s %-16s %-9s %8.2f MB/s  (median of %d; %s tokens)\n" "$tool" "$mode" "$threads" "$median" "$n" "$tokens"
done
rm -f "$log"
