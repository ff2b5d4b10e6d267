"""lmul.torch.Linear (L-Mul bits kernels) vs the same layer emulated in pure PyTorch
(bench/lmul_torch_emulation.py) vs nn.Linear (exact fp32) and lmul.torch.Linear with arith="exact"
(lmul's OpenBLAS sgemm through the binding), forward + backward of one Linear,
interleaved, median of REPS per variant, at 1 and 2 threads. BENCHMARKS.md quotes its output.

    PYTHONPATH=build/python OMP_WAIT_POLICY=passive /usr/bin/python3 bench/python_speed.py [--reps 5]
"""
import argparse
import os
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lmul  # noqa: E402
import lmul.torch  # noqa: E402
from lmul_torch_emulation import EmulatedLinear  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--tokens", type=int, default=128, help="rows of x (batch x time)")
    ap.add_argument("--cin", type=int, default=256)
    ap.add_argument("--cout", type=int, default=1024)
    ap.add_argument("--threads", default="1,2")
    a = ap.parse_args()
    torch.manual_seed(0)
    exact = torch.nn.Linear(a.cin, a.cout)
    lm = lmul.torch.Linear(a.cin, a.cout, arith="lmul:m=4")
    lm_exact = lmul.torch.Linear(a.cin, a.cout, arith="exact")
    emu = EmulatedLinear(a.cin, a.cout, m=4)
    for layer in (lm, lm_exact, emu):
        layer.load_state_dict(exact.state_dict())
    x = torch.randn(a.tokens, a.cin)
    dy = torch.randn(a.tokens, a.cout)
    variants = {"nn.Linear (exact fp32)": exact, "lmul.torch.Linear lmul:m=4": lm,
                "lmul.torch.Linear exact (lmul's sgemm)": lm_exact, "pure-PyTorch L-Mul emulation": emu}

    def step(layer):
        xr = x.clone().requires_grad_()
        layer.zero_grad(set_to_none=True)
        t0 = time.perf_counter()
        layer(xr).backward(dy)
        return time.perf_counter() - t0

    # The emulation's products equal lmul's (python/tests/test_torch.py); here the sums' order differs.
    with torch.no_grad():
        d = (lm(x) - emu(x)).abs().max().item()
    print(f"Linear {a.cin}->{a.cout}, x ({a.tokens}, {a.cin}), forward + backward; "
          f"max |lmul - emulation| of y = {d:.2e}; torch {torch.__version__}")
    for threads in [int(t) for t in a.threads.split(",")]:
        torch.set_num_threads(threads)
        lmul.set_num_threads(threads)
        times = {k: [] for k in variants}
        for k, layer in variants.items():
            step(layer)  # warm-up
        names = list(variants)
        for r in range(a.reps):
            for k in names[r % len(names):] + names[:r % len(names)]:  # interleaved, rotating order
                times[k].append(step(variants[k]))
        base = statistics.median(times[names[1]])
        print(f"\n{threads} thread(s), median of {a.reps}:")
        print("| variant | ms | vs lmul.torch.Linear |")
        print("|---|---:|---:|")
        for k in names:
            med = statistics.median(times[k])
            print(f"| {k} | {1000 * med:.1f} | {med / base:.2f}x |")


if __name__ == "__main__":
    main()
