"""Side-by-side training speed: lmul against PyTorch on the same model, data and thread count.

For each config (the baby Shakespeare GPT, the 6-layer one and GPT-2 124M), runs lmul and PyTorch
alternately for --rounds rounds (interleaved, so machine noise hits both alike), each round a
fixed number of timed steps after untimed warmup steps, and prints a markdown table of medians:
ms/step, tokens/s, achieved GFLOP/s (nanoGPT's estimate_mfu count: 6N + 12·L·H·Q·T per token,
N = parameters without wpe) and lmul's speed-up; then, per implementation, the first step ÷ the
median timed step and the peak RSS (each run's maximum resident set from wait4, medians over rounds).
Dropout is 0 in both (the same work per step). GPT-2 124M (T=1024, B=1, no bias, vocab 50304)
trains on datasets/owt_sample (`lmul prepare gpt2 --input ../shared/data/owt_sample/... --out
datasets/owt_sample`); the char configs on --data.

  /usr/bin/python3 bench/train_speed.py --lmul build/apps/lmul --data datasets/shakespeare_char \
      --threads 2 --rounds 3

PyTorch runs with OMP_WAIT_POLICY=passive (docs/ARCHITECTURE.md §4); lmul with the environment as given.
--baseline OTHER_LMUL times a second lmul binary in the same rounds (before/after a change).
"""

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

CONFIGS = {
    "baby 4/4/128, T=64, B=12": dict(config="configs/shakespeare_char_cpu.toml", n_layer=4, n_head=4,
                                      n_embd=128, block_size=64, batch_size=12, steps=60, warmup=10),
    "6/6/384, T=256, B=64": dict(config="configs/shakespeare_char.toml", n_layer=6, n_head=6, n_embd=384,
                                 block_size=256, batch_size=64, steps=6, warmup=2),
    "GPT-2 124M, T=1024, B=1": dict(config="configs/openwebtext_gpt2_124m.toml", n_layer=12, n_head=12, n_embd=768,
                                    block_size=1024, batch_size=1, steps=3, warmup=1, vocab=50304,
                                    data="datasets/owt_sample", beta2=0.95,
                                    sets=["batch_size=1", "gradient_accumulation_steps=1"]),
}


def machine():
    """'CPU model, OpenBLAS core <name>': what every table must name (the core is the one OpenBLAS picks
    here, OPENBLAS_CORETYPE included, asked of the library itself)."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    try:
        import ctypes
        lib = ctypes.CDLL("libopenblas.so.0")
        lib.openblas_get_corename.restype = ctypes.c_char_p
        core = lib.openblas_get_corename().decode()
    except (OSError, AttributeError):
        core = "unknown"
    return "%s, OpenBLAS core %s" % (cpu, core)


def data_dir(args, c):
    return os.path.join(ROOT, c["data"]) if "data" in c else args.data


def vocab_of(args, c):
    return c.get("vocab") or json.load(open(os.path.join(data_dir(args, c), "meta.json")))["vocab_size"]


def timed(cmd, env=None):
    """Runs cmd; returns (stdout, its peak RSS in MB: ru_maxrss of that one child, from wait4)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            raise subprocess.CalledProcessError(proc.returncode, cmd, out.read(), err.read())
        return out.read().decode(), usage.ru_maxrss / 1024.0


def flops_per_token(c, vocab):
    C, L, T = c["n_embd"], c["n_layer"], c["block_size"]
    n = vocab * C + L * (12 * C * C + 2 * C) + C  # wte + blocks (no bias) + ln_f; wpe excluded
    return 6 * n + 12 * L * c["n_head"] * (C // c["n_head"]) * T


def run_lmul(args, c, extra):
    with tempfile.TemporaryDirectory() as d:
        sets = ["dataset=" + data_dir(args, c), "out_dir=" + d + "/run", "always_save_checkpoint=false", "max_iters=%d" % (c["steps"] + c["warmup"]),
                "eval_interval=1000000", "eval_iters=1", "log_interval=1", "dropout=0",
                "threads=%d" % args.threads, "lr_decay_iters=%d" % (c["steps"] + c["warmup"] + 1),
                "warmup_iters=1"] + c.get("sets", []) + extra
        cmd = [args.lmul, "train", "-q", os.path.join(ROOT, c["config"])]
        for s in sets:
            cmd += ["--set", s]
        _, rss = timed(cmd)
        lines = [json.loads(l) for l in open(d + "/run/metrics.jsonl")][1:]
        all_ms = [l["ms_per_step"] for l in lines if "ms_per_step" in l]
        ms = statistics.median(all_ms[c["warmup"]:])
        return ms, all_ms[0] / ms, rss


def run_torch(args, c):
    env = dict(os.environ, OMP_WAIT_POLICY="passive")
    cmd = ["/usr/bin/python3", os.path.join(HERE, "pytorch_train_bench.py"), "--data", data_dir(args, c),
           "--n-layer", str(c["n_layer"]), "--n-head", str(c["n_head"]), "--n-embd", str(c["n_embd"]),
           "--block-size", str(c["block_size"]), "--batch-size", str(c["batch_size"]),
           "--vocab-size", str(vocab_of(args, c)), "--beta2", str(c.get("beta2", 0.99)), "--steps", str(c["steps"]), "--warmup", str(c["warmup"]),
           "--threads", str(args.threads), "--dropout", "0"]
    out, rss = timed(cmd, env)
    j = json.loads(out.strip().splitlines()[-1])
    first = (j["ms_per_warmup_step"] or j["ms_per_step_all"])[0]
    return j["ms_per_step_median"], first / j["ms_per_step_median"], rss


def common_args(p):
    """The options both speed benchmarks take."""
    p.add_argument("--lmul", default=os.path.join(ROOT, "build/apps/lmul"))
    p.add_argument("--data", default=os.path.join(ROOT, "datasets/shakespeare_char"))
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--only", default="", help="substring of the config names to run")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    common_args(p)
    p.add_argument("--arith", default="", help="e.g. arith.linear=lmul:m=4 for lmul (PyTorch stays exact)")
    p.add_argument("--steps", type=int, default=0, help="timed steps per run (default: the config's)")
    p.add_argument("--warmup", type=int, default=0, help="untimed steps before them (default: the config's)")
    p.add_argument("--baseline", default="", help="another lmul binary (e.g. an older build) timed in the same rounds")
    args = p.parse_args()
    extra = [args.arith] if args.arith else []
    rows, extras = [], []
    for name, c in CONFIGS.items():
        if args.only and args.only not in name:
            continue
        c = dict(c, steps=args.steps or c["steps"], warmup=args.warmup or c["warmup"])
        lm, pt, bl, lx, px = [], [], [], [], []
        for r in range(args.rounds):
            ms, first, rss = run_lmul(args, c, extra)
            lm.append(ms)
            lx.append((first, rss))
            ms, first, rss = run_torch(args, c)
            pt.append(ms)
            px.append((first, rss))
            if args.baseline:
                bl.append(run_lmul(argparse.Namespace(**dict(vars(args), lmul=args.baseline)), c, extra)[0])
            print("%s round %d: lmul %.1f ms, pytorch %.1f ms%s" % (
                name, r + 1, lm[-1], pt[-1], ", baseline lmul %.1f ms" % bl[-1] if bl else ""), file=sys.stderr)
        if bl:
            print("%s: baseline lmul median %.1f ms/step (%.2f× PyTorch); this lmul %.2f× the baseline" % (
                name, statistics.median(bl), statistics.median(pt) / statistics.median(bl),
                statistics.median(bl) / statistics.median(lm)), file=sys.stderr)
        tok = c["batch_size"] * c["block_size"]
        f = flops_per_token(c, vocab_of(args, c))
        ml, mp = statistics.median(lm), statistics.median(pt)
        rows.append("| %s | %.1f | %.0f | %.1f | %.1f | %.0f | %.1f | **%.2f×** |" % (
            name, ml, tok / ml * 1e3, f * tok / ml / 1e6, mp, tok / mp * 1e3, f * tok / mp / 1e6, mp / ml))
        med = lambda xs, k: statistics.median(x[k] for x in xs)
        extras.append("| %s | %.2f | %.2f | %.0f | %.0f |" % (name, med(lx, 0), med(px, 0), med(lx, 1), med(px, 1)))
    print("%s, %d threads, %s; `%s`" % (datetime.date.today(), args.threads, machine(),
                                       " ".join(["bench/train_speed.py"] + sys.argv[1:])))
    print()
    print("| config | lmul ms/step | lmul tokens/s | lmul GFLOP/s | PyTorch ms/step | PyTorch tokens/s | PyTorch GFLOP/s | lmul speed-up |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(r)
    print()
    print("| config | lmul first step ÷ median step | PyTorch first step ÷ median step | lmul peak RSS MB | PyTorch peak RSS MB |")
    print("|---|---|---|---|---|")
    for r in extras:
        print(r)


if __name__ == "__main__":
    main()
