#!/usr/bin/env python3
"""The README's integer-only table from scripts/qat_baby.sh's eval files (RUNS_DIR/eval.*.json).

Rows: the fp32 run, its integer-only PTQ (W8A8, W4A8), the 300-iteration QAT runs read out
integer-only (and in fp32), the fp32 fine-tune control (and its PTQ). Columns: val loss mean ±
sample std over the seeds, and the same-seed differences to the fp32 run and to the control (the
fp32 run fine-tuned for the same 300 iterations), mean ± std.

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
    # (row, eval file key, compared with the control: the row had the 300 extra iterations)
    rows = [("fp32 (2000 iterations, exact)", "fp32", False),
            ("W8A8 integer-only, PTQ (calibration only)", "ptq", False),
            ("W8A8 integer-only after QAT (+300 iterations)", "qat.int", True),
            ("the W8A8 QAT weights read out in fp32", "qat.fp32", True),
            ("control: fp32 fine-tune (+300 iterations, qat = false)", "ft.fp32", True),
            ("the control, W8A8 integer-only PTQ", "ft.int", True),
            ("W4A8 integer-only, PTQ (calibration only)", "ptq_w4", False),
            ("W4A8 integer-only after QAT (+300 iterations)", "qat_w4.int", True)]
    loss = {}
    for _, key, _ in rows:
        for s in (1, 2, 3):
            path = os.path.join(runs, f"eval.{key}.seed{s}.json")
            if os.path.exists(path) and os.path.getsize(path) > 0:
                loss[(key, s)] = json.load(open(path))["loss"]
    print("| model | seeds | val loss | Δ vs fp32 | Δ vs the fp32 fine-tune |")
    print("|---|---|---:|---:|---:|")
    for name, key, tuned in rows:
        seeds = [s for s in (1, 2, 3) if (key, s) in loss]
        d = [loss[(key, s)] - loss[("fp32", s)] for s in seeds if ("fp32", s) in loss]
        dc = [loss[(key, s)] - loss[("ft.fp32", s)] for s in seeds if ("ft.fp32", s) in loss]
        print(f"| {name} | {','.join(map(str, seeds))} | {stat([loss[(key, s)] for s in seeds])} | "
              f"{'ref' if key == 'fp32' else delta(d)} | "
              f"{('ref' if key == 'ft.fp32' else delta(dc)) if tuned else ''} |")


if __name__ == "__main__":
    main()
