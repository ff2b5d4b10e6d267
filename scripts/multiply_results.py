#!/usr/bin/env python3
"""The README's multiplication-task tables from finished sweep dirs.

For every run dir under the given sweep dirs (NAME.seedN, as `lmul sweep` names them) it runs
`lmul eval RUN --json` (whole-number and per-digit-place accuracy over the whole 10,000-sample
held-out set, teacher-forced argmax) and reads metrics.jsonl for the first evaluation step whose
val_accuracy (the eval_iters val batches) reaches --target. Runs are grouped by their dataset (the
task's options) and NAME, across sweep dirs (a sweep split over machines by --seeds and --out
groups back together), and printed as one markdown row per group: mean ± sample std over seeds, the mean accuracy per digit place (units
first) and the steps to the target (mean over the seeds that reached it, and how many did).

  scripts/multiply_results.py --lmul build/apps/lmul runs/multiply_2digit_formats runs/multiply_2digit_normal ...
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys


def mean_std(xs):
    if len(xs) < 2:
        return f"{xs[0]:.4f}" if xs else "–"
    return f"{statistics.mean(xs):.4f} ± {statistics.stdev(xs):.4f}"


def steps_to(metrics_path, target):
    with open(metrics_path) as f:
        for line in f:
            j = json.loads(line)
            if "val_accuracy" in j and j["val_accuracy"] >= target:
                return j["step"]
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("sweep_dirs", nargs="+")
    ap.add_argument("--lmul", default="build/apps/lmul")
    ap.add_argument("--target", type=float, default=0.99)
    a = ap.parse_args()
    groups = {}
    for sweep in a.sweep_dirs:
        for name in sorted(os.listdir(sweep)):
            run = os.path.join(sweep, name)
            m = re.fullmatch(r"(.*)\.seed(\d+)", name)
            if not m or not os.path.isfile(os.path.join(run, "metrics.jsonl")):
                continue
            with open(os.path.join(run, "metrics.jsonl")) as f:
                lines = [json.loads(line) for line in f]
            max_iters = lines[0]["config"]["max_iters"]
            if not any(j.get("step") == max_iters and "val_loss" in j for j in lines[1:]):
                print(f"multiply_results: {run} has not finished; left out", file=sys.stderr)
                continue
            out = subprocess.run([a.lmul, "eval", run, "--json"], capture_output=True, text=True)
            if out.returncode != 0:
                sys.exit(f"multiply_results: lmul eval {run} failed: {out.stderr.strip()}")
            acc = json.loads(out.stdout.strip().splitlines()[-1])["accuracy"]
            dataset = lines[0]["config"]["dataset"]
            key = (dataset.split(":", 1)[1], m.group(1))
            groups.setdefault(key, []).append(
                (acc["whole_accuracy"], acc["digit_accuracy"], steps_to(os.path.join(run, "metrics.jsonl"), a.target)))
    print(f"| task options | run | seeds | whole-number accuracy | per digit place (units first) | steps to "
          f"{a.target:.0%} |")
    print("|---|---|---|---|---|---|")
    for (options, name), rows in groups.items():
        whole = [r[0] for r in rows]
        places = len(rows[0][1])
        digit = " ".join(f"{statistics.mean(r[1][k] for r in rows):.3f}" for k in range(places))
        reached = [r[2] for r in rows if r[2] is not None]
        steps = f"{statistics.mean(reached):.0f} ({len(reached)}/{len(rows)})" if reached else f"not reached (0/{len(rows)})"
        print(f"| {options} | {name} | {len(rows)} | {mean_std(whole)} | {digit} | {steps} |")


if __name__ == "__main__":
    main()
