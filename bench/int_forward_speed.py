"""Training speed of the integer forward GEMM (`gemm=int`) against the fp32 emulation and exact.

For the baby GPT (configs/shakespeare_char_cpu.toml) and/or the 6-layer one
(configs/shakespeare_char.toml), trains with arith.linear = exact, int:b=8, int:b=8,gemm=int,
ternary, ternary:gemm=int (attention and head exact), one after the other per round (interleaved,
so machine noise hits all alike), each --steps timed steps after --warmup untimed ones; prints each
round and a markdown table of medians with every row's ms/step ÷ exact's in the same round (median
of those ratios), and each run's process CPU time (user + sys of the whole lmul process: startup,
steps, the one-batch evals) ÷ exact's, which a loaded machine's time slicing distorts less than wall time.

  OMP_WAIT_POLICY=passive /usr/bin/python3 bench/int_forward_speed.py --threads 1 --rounds 3 --only baby
  OMP_WAIT_POLICY=passive /usr/bin/python3 bench/int_forward_speed.py --threads 1 --rounds 2 --only 6/6 \
      --steps 2 --warmup 1 --batch-size 8
  (--specs "exact;int:b=8,gemm=int;ternary:gemm=int" times only those, ';'-separated, exact first.)
"""

import argparse
import datetime
import platform
import resource
import statistics
import sys

from train_speed import CONFIGS, common_args, run_lmul

SPECS = ["exact", "int:b=8", "int:b=8,gemm=int", "ternary", "ternary:gemm=int"]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    common_args(p)
    p.add_argument("--steps", type=int, default=0, help="timed steps (default: the config's in train_speed.py)")
    p.add_argument("--warmup", type=int, default=-1, help="untimed steps first (default: the config's)")
    p.add_argument("--batch-size", type=int, default=0, help="override the config's batch_size (rows = B·T)")
    p.add_argument("--specs", default=";".join(SPECS),
                   help="the arith.linear specs to time, ';'-separated, exact first (default: all five)")
    args = p.parse_args()
    specs = args.specs.split(";")
    if specs[0] != "exact":
        sys.exit("lmul: error: --specs must start with exact (the ratios are to it), got '%s'" % args.specs)
    for name, c in CONFIGS.items():
        if args.only and args.only not in name:
            continue
        c = dict(c)
        if name.startswith("baby"):
            c.update(steps=60, warmup=10)
        if args.steps:
            c["steps"] = args.steps
        if args.warmup >= 0:
            c["warmup"] = args.warmup
        extra = ["batch_size=%d" % args.batch_size] if args.batch_size else []
        if args.batch_size:
            c["batch_size"] = args.batch_size
        ms = {s: [] for s in specs}
        cpu = {s: [] for s in specs}  # CPU seconds of the whole lmul process (startup, steps, evals)
        for r in range(args.rounds):
            for s in specs:
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                ms[s].append(run_lmul(args, c, extra + ["arith.linear=" + s])[0])
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                cpu[s].append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
            print("%s round %d: %s" % (name, r + 1, ", ".join("%s %.1f ms (%.1f CPU s)" % (s, ms[s][-1], cpu[s][-1])
                                                            for s in specs)),
                  file=sys.stderr, flush=True)
        print("%s (batch_size %d): %s, %d thread(s), %s, %d timed steps after %d; `%s`" % (
            name, c["batch_size"], datetime.date.today(), args.threads, platform.processor() or platform.machine(),
            c["steps"], c["warmup"], " ".join(["bench/int_forward_speed.py"] + sys.argv[1:])))
        print()
        print("| arith.linear | ms/step (median) | ÷ exact (median of rounds) | runs (ms) "
              "| process CPU s (median) | CPU ÷ exact (median of rounds) |")
        print("|---|---|---|---|---|---|")
        for s in specs:
            ratio = statistics.median(a / b for a, b in zip(ms[s], ms["exact"]))
            cpu_ratio = statistics.median(a / b for a, b in zip(cpu[s], cpu["exact"]))
            print("| `%s` | %.1f | %.2f | %s | %.1f | %.2f |" % (
                s, statistics.median(ms[s]), ratio, " / ".join("%.1f" % v for v in ms[s]),
                statistics.median(cpu[s]), cpu_ratio))
        print()


if __name__ == "__main__":
    main()
