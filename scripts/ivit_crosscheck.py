#!/usr/bin/env python3
"""Cross-check `lmul numerics intop` against an independent pure-Python reading of
../shared/research/ivit_integer_ops.md (Python's unbounded integers, float32 via struct).

Usage: /usr/bin/python3 scripts/ivit_crosscheck.py build/apps/lmul [--cases N] [--seed S]
Random rows per op (int8 scores/features, int16 LayerNorm inputs, int32 accumulators), random
scales and options; prints the number of rows compared per op and exits 1 on the first mismatch.
Not part of ctest: the C++ golden tests (tests/test_integer_ops.cpp) are the gate.
"""
import argparse, math, random, struct, subprocess, sys
from decimal import Decimal, ROUND_HALF_UP

DIV = 2**31 - 1


def f32(x):
    return struct.unpack("f", struct.pack("f", float(x)))[0]


def x0_of(s):  # floor(-f32(1/s)), s a float32
    return math.floor(-f32(1.0 / s))


def int_exp_shift(d, x0, n):
    xp = d + (d >> 1) - (d >> 4)
    xp = max(xp, n * x0)
    q = xp // x0
    r = xp - x0 * q
    return ((r - 2 * x0) * 2 ** (n - q)) // 2  # q <= n because xp >= n*x0


def shiftmax(x, s, b, kept):
    x0 = x0_of(s)
    m = max(x[:kept])
    e = [int_exp_shift(x[j] - m, x0, 15) if j < kept else 0 for j in range(len(x))]
    S = min(sum(e), DIV)
    f = DIV // S
    return [(v * f) >> (32 - b) for v in e]


def shiftgelu(x, s, b):
    x0 = x0_of(f32(f32(s) * f32(1.702)))
    m = max(x)
    em = int_exp_shift(-m, x0, 23)  # exact: Python integers do not overflow
    out = []
    for v in x:
        e = int_exp_shift(v - m, x0, 23)
        f = DIV // min(e + em, DIV)
        out.append(v * ((e * f) >> (32 - b)))
    return out


def ivit_sqrt(v):
    k = 2**16
    for _ in range(10):
        k = (k + v // k) // 2
    return k


def round_half_even_div(a, b):
    q, r = divmod(a, b)
    return q + 1 if 2 * r > b or (2 * r == b and q % 2) else q


def ilayernorm(x, w, bias):
    C = len(x)
    mean = round_half_even_div(sum(x), C)
    y = [v - mean for v in x]
    f = DIV // ivit_sqrt(sum(v * v for v in y))
    mid = f32(f32(math.sqrt(f32(C))) / 2**30)
    bi = [math.floor(f32(f32(f32(bb) / f32(ww)) / mid)) for ww, bb in zip(w, bias)]
    return [(v * f) // 2 + c for v, c in zip(y, bi)], [f32(mid * f32(ww)) for ww in w]


def dyadic(M):
    mant, ex = math.frexp(M)
    return int(Decimal(mant * 2**31).quantize(1, ROUND_HALF_UP)), 31 - ex


def requant(a, m, e):
    return round_half_even_div(a * m, 2**e)


def run(lmul, args, rows):
    text = "".join(" ".join(map(str, r)) + "\n" for r in rows)
    p = subprocess.run([lmul, "numerics", "intop"] + args, input=text, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"lmul {' '.join(args)} failed: {p.stdout}{p.stderr}")
    return p.stdout.splitlines()


def check(what, got, want):
    if got != want:
        sys.exit(f"MISMATCH {what}:\n  lmul:   {got}\n  python: {want}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("lmul")
    ap.add_argument("--cases", type=int, default=30)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    counts = dict(shiftmax=0, shiftgelu=0, ilayernorm=0, requant=0)
    for _ in range(a.cases):
        # Shiftmax: causal blocks of int8 scores.
        T, s, b = rng.randint(1, 40), f32(rng.uniform(0.01, 0.5)), rng.choice([8, 16])
        rows = [[rng.randint(-128, 127) for _ in range(T)] for _ in range(T)]
        out = run(a.lmul, ["shiftmax", "--scale", repr(s), "--bits", str(b), "--causal"], rows)
        for i, r in enumerate(rows):
            check(f"shiftmax s={s} b={b} row {i}", out[i], " ".join(map(str, shiftmax(r, s, b, i + 1))))
        check("shiftmax scale", f32(float(out[-1].split()[1])), 2.0 ** -(b - 1))
        counts["shiftmax"] += T
        # ShiftGELU: int8 features, scales where |x0|·2^23 fits.
        s = f32(rng.uniform(0.003, 0.2))
        rows = [[rng.randint(-128, 127) for _ in range(rng.randint(1, 50))] for _ in range(5)]
        rows.append([rng.randint(-128, -1) for _ in range(7)])  # a negative max: e_m saturates
        out = run(a.lmul, ["shiftgelu", "--scale", repr(s)], rows)
        for i, r in enumerate(rows):
            check(f"shiftgelu s={s} row {i}", out[i], " ".join(map(str, shiftgelu(r, s, 8))))
        counts["shiftgelu"] += len(rows)
        # I-LayerNorm: int16 rows, random weights and biases.
        C = rng.randint(1, 64)
        w = [f32(rng.choice([-1, 1]) * rng.uniform(0.1, 2)) for _ in range(C)]
        bias = [f32(rng.uniform(-1, 1)) for _ in range(C)]
        amp = rng.choice([10, 300, 32767])
        rows = [[rng.randint(-amp, amp) for _ in range(C)] for _ in range(4)]
        out = run(a.lmul, ["ilayernorm", "--weight=" + ",".join(map(repr, w)),
                           "--bias=" + ",".join(map(repr, bias))], rows)
        for i, r in enumerate(rows):
            check(f"ilayernorm C={C} row {i}", out[i], " ".join(map(str, ilayernorm(r, w, bias)[0])))
        scales = [f32(float(v)) for v in out[-1].split()[1:]]
        check("ilayernorm scales", scales, ilayernorm(rows[0], w, bias)[1])
        counts["ilayernorm"] += len(rows)
        # Requant: int32 accumulators, multipliers over many decades.
        M = 10 ** rng.uniform(-9, 1)
        m, e = dyadic(M)
        rows = [[rng.randint(-2**31, 2**31 - 1) for _ in range(8)], [rng.randint(-1000, 1000) for _ in range(8)]]
        out = run(a.lmul, ["requant", "--multiplier", repr(M)], rows)
        check(f"dyadic({M})", out[0], f"{m} {e}")
        for i, r in enumerate(rows):
            check(f"requant M={M} row {i}", out[i + 1], " ".join(str(requant(v, m, e)) for v in r))
        counts["requant"] += len(rows)
    print("agree:", ", ".join(f"{k} {v} rows" for k, v in counts.items()))


if __name__ == "__main__":
    main()
