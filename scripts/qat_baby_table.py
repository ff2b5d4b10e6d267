#!/usr/bin/env python3
"""The README's integer-only table from scripts/qat_baby.sh's eval files (RUNS_DIR/eval.*.json).

Rows: the fp32 run, its integer-only PTQ, the 300-iteration QAT run read out integer-only (and in
fp32), the fp32 fine-tune control (and its PTQ). Columns: val loss mean ± sample std over the
seeds, and the same-seed difference to the fp32 run, mean ± std.

  scripts/qat_baby_table.py runs/qat_baby
"""
import json
import os
import statistics
import sys


def stat(xs):
    if len(xs) < 2:
        return f"{xs[0]:.4f}" if xs else "–"
    return f"{statistics.mean(xs):.4f} ± {statistics.stdev(xs):.4f}"


def delta(xs):
    if len(xs) < 2:
        return f"{xs[0]:+.4f}" if xs else "–"
    return f"{statistics.mean(xs):+.4f} ± {statistics.stdev(xs):.4f}"


def main():
    runs = sys.argv[1] if len(sys.argv) > 1 else "runs/qat_baby"
    rows = [("fp32 (2000 iterations, exact)", "fp32"), ("integer-only, PTQ (calibration only)", "ptq"),
            ("integer-only after QAT (+300 iterations)", "qat.int"), ("  the QAT weights read out in fp32", "qat.fp32"),
            ("control: fp32 fine-tune (+300 iterations)", "ft.fp32"), ("  the control, integer-only PTQ", "ft.int")]
    loss = {}
    for _, key in rows:
        for s in (1, 2, 3):
            path = os.path.join(runs, f"eval.{key}.seed{s}.json")
            if os.path.exists(path) and os.path.getsize(path) > 0:
                loss[(key, s)] = json.load(open(path))["loss"]
    print("| model | seeds | val loss (200 batches) | Δ vs fp32, same seed |")
    print("|---|---|---:|---:|")
    for name, key in rows:
        seeds = [s for s in (1, 2, 3) if (key, s) in loss]
        d = [loss[(key, s)] - loss[("fp32", s)] for s in seeds if ("fp32", s) in loss]
        print(f"| {name} | {','.join(map(str, seeds))} | {stat([loss[(key, s)] for s in seeds])} | "
              f"{'ref' if key == 'fp32' else delta(d)} |")


if __name__ == "__main__":
    main()
