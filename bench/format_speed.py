"""Per-step training time of each number format relative to exact, side by side.

For the baby Shakespeare GPT and the 6-layer one, runs `lmul train` for a fixed number of steps
once per format per round, rounds interleaved (exact, f1, f2, ..., exact, f1, ...), and prints the
median ms/step of each format and its ratio to exact's median — issue 17's targets:
quantise-then-GEMM formats ≤ 1.1×, lmul variant=bits ≤ 1.3×, lmul variant=formula ≤ 2.0×.

  /usr/bin/python3 bench/format_speed.py --threads 2 --rounds 3
"""

import argparse
import datetime
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train_speed import CONFIGS, common_args, machine, run_lmul  # noqa: E402

FORMATS = ["exact", "fp8:e4m3,scale=delayed", "fp8:hybrid,scale=delayed", "bf16", "pot:b=5", "int:b=8",
           "ternary", "lmul:m=4,variant=formula", "lmul:m=4"]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    common_args(p)
    p.add_argument("--site", default="linear", help="site the formats go to (linear: q/k/v, proj, fc)")
    p.add_argument("--steps", type=int, default=0, help="timed steps per run (0: the config's default)")
    p.add_argument("--warmup", type=int, default=-1, help="untimed steps per run (-1: the config's default)")
    p.add_argument("--formats", nargs="+", default=FORMATS[1:], metavar="SPEC",
                   help="formats to time against exact (default: all of the issue's)")
    p.add_argument("--baseline", default="", help="another lmul binary (e.g. an older build) timed in the same rounds")
    args = p.parse_args()
    formats = ["exact"] + [f for f in args.formats if f != "exact"]
    binaries = [("", args.lmul)] + ([(" (baseline)", args.baseline)] if args.baseline else [])
    print("%s, %d threads, %s; `%s`\n" % (datetime.date.today(), args.threads, machine(),
                                          " ".join(["bench/format_speed.py"] + sys.argv[1:])))
    for name, c in CONFIGS.items():
        if args.only and args.only not in name:
            continue
        c = dict(c)
        if args.steps > 0:
            c["steps"] = args.steps
        if args.warmup >= 0:
            c["warmup"] = args.warmup
        ms = {(f, b): [] for f in formats for b, _ in binaries}
        for r in range(args.rounds):
            for f in formats:
                for b, binary in binaries:
                    run_args = argparse.Namespace(**dict(vars(args), lmul=binary))
                    ms[(f, b)].append(run_lmul(run_args, c, ["arith.%s=%s" % (args.site, f)])[0])
                    print("%s round %d %s%s: %.1f ms" % (name, r + 1, f, b, ms[(f, b)][-1]), file=sys.stderr)
        print("**%s** (arith.%s)\n" % (name, args.site))
        print("| format | median ms/step | × exact |")
        print("|---|---|---|")
        for f in formats:
            for b, _ in binaries:
                m = statistics.median(ms[(f, b)])
                print("| `%s`%s | %.1f | %.2f× |" % (f, b, m, m / statistics.median(ms[("exact", b)])))
        print()


if __name__ == "__main__":
    main()
