#!/usr/bin/env python3
"""Post-training HAWQ-V3 and DGQ rows on the baby Shakespeare GPT (README "Results: mixed precision").

For each exact-trained run: `lmul precision` (HAWQ-V3 allocation at --avg-bits), then `lmul eval`
(the run's eval_iters val batches) of: exact; the HAWQ allocation; uniform int6; 20 random
allocations at the same budget (a random module order, 8 bits while the budget allows, else 4);
DGQ A8W4 and its int4/int8 baselines on the Linear layers. Prints a Markdown table of mean ± std
over the runs. Usage: scripts/hawq_dgq_results.py LMUL RUN_DIR... [--avg-bits 6] [--g 32]
"""
import argparse, json, random, re, statistics, subprocess, sys, tempfile, os

ap = argparse.ArgumentParser()
ap.add_argument("lmul")
ap.add_argument("runs", nargs="+")
ap.add_argument("--avg-bits", type=float, default=6)
ap.add_argument("--g", type=int, default=32)
ap.add_argument("--random", type=int, default=20)
a = ap.parse_args()

def run(args):
    r = subprocess.run([a.lmul] + args, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"failed: lmul {' '.join(args)}\n{r.stderr}")
    return r.stdout

def val(target, sets):
    args = ["eval", target, "--json"]
    for s in sets: args += ["--set", s]
    return json.loads(run(args).strip().splitlines()[-1])["loss"]

spec = lambda b: f"int:b={b},gran=channel"
rows = {}
def add(name, v): rows.setdefault(name, []).append(v)
for target in a.runs:
    with tempfile.TemporaryDirectory() as d:
        frag = os.path.join(d, "hawq.toml")
        table = run(["precision", target, "--bits", "4,8", "--avg-bits", str(a.avg_bits), "--out", frag])
        print(table, file=sys.stderr)
        hawq = re.findall(r"^'([^']+)' = '([^']+)'", open(frag).read(), re.M)
    params = {m.group(1): int(m.group(2)) for m in re.finditer(r"^(transformer\S+)\s+(\d+)", table, re.M)}
    total = sum(params.values())
    hawq_bits = sum(params[m] * (8 if "w=8" in s else 4) for m, s in hawq) / total
    add("exact", val(target, []))
    add(f"HAWQ-V3 int4/int8, avg {a.avg_bits:g} bits (got {hawq_bits:.3f})", val(target, [f"arith.modules.{m}={s}" for m, s in hawq]))
    add("uniform int6 (per channel, W6A6)", val(target, ["arith.linear=" + spec(6)]))
    rng = random.Random(1)
    rand = []
    for _ in range(a.random):
        order = list(params); rng.shuffle(order)
        budget = a.avg_bits * total - 4 * total
        sets = []
        for m in order:
            b = 8 if params[m] * 4 <= budget else 4
            if b == 8: budget -= params[m] * 4
            sets.append(f"arith.modules.{m}={spec(b)}")
        rand.append(val(target, sets))
    add(f"best of {a.random} random int4/int8 allocations", min(rand))
    add(f"worst of {a.random} random int4/int8 allocations", max(rand))
    add(f"mean of {a.random} random int4/int8 allocations", statistics.mean(rand))
    g = a.g
    add(f"DGQ A8W4 dgq:g={g}", val(target, [f"arith.linear=dgq:g={g}"]))
    add(f"DGQ A8W4 dgq:g={g},pct=99", val(target, [f"arith.linear=dgq:g={g},pct=99"]))
    add("W4A8 int4 per channel (coarse), int8 per token", val(target, ["arith.linear=int:w=4,a=8,gran=channel"]))
    add(f"W4A8 int4 per group g={g}, fp32 scales (fine)", val(target, [f"arith.linear=int:w=4,a=8,gran=group,g={g}"]))
    add("W8A8 int8 per channel / per token", val(target, ["arith.linear=int:b=8,gran=channel"]))

sd = lambda v: statistics.stdev(v) if len(v) > 1 else 0.0
print(f"| Linear layers | val loss, mean ± std over {len(a.runs)} runs | Δ vs exact, same-run differences |")
print("|---|---|---|")
for name, v in rows.items():
    d = [x - e for x, e in zip(v, rows["exact"])]
    print(f"| {name} | {statistics.mean(v):.4f} ± {sd(v):.4f} | {statistics.mean(d):+.4f} ± {sd(d):.4f} |")
