"""Share of a training run's CPU samples per kernel group, from `perf record` data.

  perf record -F 999 -g -o perf.data -- build/apps/lmul train -q configs/shakespeare_char_cpu.toml \
      --set max_iters=60 --set eval_interval=1000000 --set eval_iters=1 --set threads=1 --set out_dir=/tmp/p
  /usr/bin/python3 bench/profile_shares.py perf.data [other.data ...]

Prints a markdown table, one column per file: self time of each symbol (perf report --no-children),
summed into groups (GEMM = OpenBLAS's sgemm kernels and packing; memset is listed apart since most
of it is OpenBLAS zeroing C before a beta = 0 GEMM), then the largest symbols left in "other".
The whole process is sampled: start-up and the final evaluation and checkpoint are in it too.

  /usr/bin/python3 bench/profile_shares.py --steps short.data long.data

profiles the training steps alone: two runs of the same command that differ only in max_iters
(e.g. 20 and 220); the samples of long minus those of short, symbol by symbol, are the extra
steps' (start-up, the final one-batch evaluation and the checkpoint cancel out).
"""

import re
import subprocess
import sys

GROUPS = [  # (group, substrings of the symbol), first match wins
    ("GEMM (OpenBLAS sgemm kernel + packing)", ["sgemm", "cblas_sgemm", "gemm_batched"]),
    ("memset (mostly OpenBLAS zeroing C, beta = 0)", ["memset"]),
    ("GELU (erf, exp, tanh and the kernels)", ["gelu", "erff", "expf", "tanhf", "simd::"]),
    ("layer norm", ["layer_norm"]),
    ("causal softmax", ["causal_softmax"]),
    ("cross-entropy", ["cross_entropy", "__ieee754_exp", "__ieee754_log"]),
    ("AdamW", ["AdamW"]),
    ("gradient norm (clipping)", ["clip_grad_norm", "grad_norm"]),
    ("head permutes, residual add", ["permute_heads", "lmul::add", "memmove", "memcpy"]),
    ("kernel (page faults, scheduler)", ["[k]"]),
]


def counts(path):
    """Samples per symbol (self time)."""
    out = subprocess.run(["perf", "report", "-i", path, "--no-children", "--sort", "symbol", "--stdio", "-g", "none",
                          "-n"], capture_output=True, text=True, check=True).stdout
    sym = {}
    for line in out.splitlines():
        m = re.match(r"\s*([\d.]+)%\s+(\d+)\s+(\[.\])\s+(.*?)\s*(-\s+-\s*)?$", line)
        if m:
            key = (m.group(3) + " " if m.group(3) == "[k]" else "") + m.group(4)
            sym[key] = sym.get(key, 0) + int(m.group(2))
    return sym


def percent(sym):
    total = sum(sym.values())
    return {k: 100.0 * v / total for k, v in sym.items()}


def shares(path):
    return percent(counts(path))


def step_shares(short, long):
    a, b = counts(short), counts(long)
    diff = {k: b.get(k, 0) - a.get(k, 0) for k in set(a) | set(b)}
    print("%s: %d samples, %s: %d; the difference, %d samples, is the extra steps'" % (
        short, sum(a.values()), long, sum(b.values()), sum(diff.values())), file=sys.stderr)
    return percent({k: v for k, v in diff.items() if v != 0})


def group_of(name):
    for g, keys in GROUPS:
        if any(k in name for k in keys):
            return g
    return "other"


def main():
    files = sys.argv[1:]
    if files and files[0] == "--steps":
        if len(files) != 3:
            sys.exit("usage: profile_shares.py --steps short.data long.data")
        per = [step_shares(files[1], files[2])]
        files = ["%s − %s" % (files[2], files[1])]
    else:
        per = [shares(f) for f in files]
    groups = [g for g, _ in GROUPS] + ["other"]
    print("| kernel group | " + " | ".join(files) + " |")
    print("|---|" + "---|" * len(files))
    for g in groups:
        vals = [sum(v for k, v in s.items() if group_of(k) == g) for s in per]
        print("| %s | %s |" % (g, " | ".join("%.1f %%" % v for v in vals)))
    print()
    for f, s in zip(files, per):
        other = sorted(((v, k) for k, v in s.items() if group_of(k) == "other"), reverse=True)[:6]
        print("%s, largest in other: %s" % (f, ", ".join("%s %.1f %%" % (k, v) for v, k in other)))


if __name__ == "__main__":
    main()
