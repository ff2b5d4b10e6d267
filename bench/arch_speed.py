"""Training speed of the two architectures at matched size (issue 13, deliverable 5), side by side.

nanoGPT's baby GPT (configs/shakespeare_char_cpu.toml, 804,096 parameters) in fp32 and with `ternary`
Linear layers and head, against the MatMul-free LM (configs/matmulfree_shakespeare_char_cpu.toml,
776,448 parameters, ternary BitLinear; also with `gemm=int`, its forward GEMMs on int8 codes through
the integer kernel). Per round the three run one after the other (interleaved,
so machine noise hits all alike; --baseline: the MatMul-free LM with another binary too), each 60 timed steps after 10 untimed ones, the same batch
(12 × 64 tokens); prints each round and a markdown table of medians over rounds, with the ratio
of every row's ms/step to the MatMul-free LM's in the same round (median of those ratios).

  OMP_WAIT_POLICY=passive /usr/bin/python3 bench/arch_speed.py --threads 1 --rounds 5
"""

import argparse
import datetime
import json
import os
import platform
import statistics
import sys

from train_speed import ROOT, common_args, run_lmul

BASE = dict(n_layer=4, block_size=64, batch_size=12, steps=60, warmup=10)
MODELS = [
    ("GPT, fp32", dict(BASE, config="configs/shakespeare_char_cpu.toml"), []),
    ("GPT, ternary Linear + head", dict(BASE, config="configs/shakespeare_char_cpu.toml"),
     ["arith.linear=ternary", "arith.head=ternary"]),
    ("MatMul-free LM, ternary, gemm=int", dict(BASE, config="configs/matmulfree_shakespeare_char_cpu.toml"),
     ["arith.linear=ternary:gemm=int", "arith.head=ternary:gemm=int"]),
    ("MatMul-free LM, ternary", dict(BASE, config="configs/matmulfree_shakespeare_char_cpu.toml"), []),
]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    common_args(p)
    p.add_argument("--baseline", default="", help="another lmul binary: the MatMul-free LM timed with it too")
    args = p.parse_args()
    models = list(MODELS)
    if args.baseline:
        models.append(("MatMul-free LM, baseline binary", MODELS[-1][1], []))
    ms = {name: [] for name, _, _ in models}
    for r in range(args.rounds):
        for name, c, extra in models:
            a = argparse.Namespace(**dict(vars(args), lmul=args.baseline)) if "baseline" in name else args
            ms[name].append(run_lmul(a, c, extra)[0])
        print("round %d: %s" % (r + 1, ", ".join("%s %.1f ms" % (n, ms[n][-1]) for n, _, _ in models)),
              file=sys.stderr)
    ref = MODELS[-1][0]
    tokens = BASE["batch_size"] * BASE["block_size"]
    print("%s, %d thread(s), %s; `%s`" % (datetime.date.today(), args.threads,
                                          platform.processor() or platform.machine(),
                                          " ".join(["bench/arch_speed.py"] + sys.argv[1:])))
    print()
    print("| model | ms/step (median) | tokens/s | ms/step ÷ MatMul-free's (median of rounds) | runs (ms) |")
    print("|---|---|---|---|---|")
    for name, _, _ in models:
        m = statistics.median(ms[name])
        ratio = statistics.median(a / b for a, b in zip(ms[name], ms[ref]))
        print("| %s | %.1f | %.0f | %.2f | %s |" % (name, m, tokens / m * 1e3, ratio,
                                                  " / ".join("%.1f" % v for v in ms[name])))


if __name__ == "__main__":
    main()
