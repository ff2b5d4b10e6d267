#!/usr/bin/env python3
"""The README's architecture table from scripts/matmulfree_results.sh's runs (issue 13, deliverable 6).

Per model, over the seeds: val loss (lmul eval --iters 200) mean ± std, training tokens/s (median of the
logged ms_per_step), generation tokens/s (1000 tokens / (time with 1000 tokens − time with 0)),
parameters, exported sizes (F32, packed ternary). Standard library only.
    /usr/bin/python3 scripts/matmulfree_results_table.py runs/matmulfree_results
"""
import json
import os
import statistics
import sys

MODELS = [
    ("gpt_exact", "GPT, fp32 (baby config)"),
    ("gpt_ternary", "GPT, `ternary` Linear layers + head"),
    ("matmulfree", "MatMul-free LM, ternary BitLinear"),
]


def mean_std(xs):
    return statistics.mean(xs), (statistics.stdev(xs) if len(xs) > 1 else 0.0)


def main(root):
    rows = []
    for key, label in MODELS:
        losses, train_tps, gen_tps, f32, packed, params = [], [], [], [], [], None
        for seed in (1, 2, 3):
            name = f"{key}.seed{seed}"
            ev = os.path.join(root, name + ".eval.json")
            if not os.path.exists(ev):
                continue
            losses.append(json.load(open(ev))["loss"])
            ms, tokens = [], None
            with open(os.path.join(root, name, "metrics.jsonl")) as f:
                header = json.loads(f.readline())
                cfg = header.get("config", header)
                tokens = cfg["batch_size"] * cfg["block_size"] * cfg["gradient_accumulation_steps"]
                params = header.get("params", params)
                for line in f:
                    m = json.loads(line)
                    if "ms_per_step" in m:
                        ms.append(m["ms_per_step"])
            train_tps.append(tokens / (statistics.median(ms) / 1000.0))
            s = json.load(open(os.path.join(root, name + ".sample.json")))
            gen_tps.append(1000.0 / max(s["with_1000_s"] - s["load_s"], 1e-9))
            f32.append(os.path.getsize(os.path.join(root, name + ".f32.safetensors")))
            packed.append(os.path.getsize(os.path.join(root, name + ".ternary.safetensors")))
        if not losses:
            continue
        rows.append((label, len(losses), mean_std(losses), statistics.median(train_tps), statistics.median(gen_tps),
                     statistics.median(f32), statistics.median(packed), params))
    print("| model | seeds | val loss (mean ± std) | train tokens/s (in the run) | generation tokens/s | export F32 | export `--format ternary` |")
    print("|---|---|---|---|---|---|---|")
    for label, n, (m, s), tps, gps, f, p, _ in rows:
        packed = "— (an fp32 model)" if label.startswith("GPT, fp32") else f"{p / 1e6:.2f} MB"
        print(f"| {label} | {n} | {m:.4f} ± {s:.4f} | {tps:,.0f} | {gps:,.0f} | {f / 1e6:.2f} MB | {packed} |")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "runs/matmulfree_results")
