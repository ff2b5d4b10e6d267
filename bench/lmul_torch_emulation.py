"""L-Mul (variant=bits, round=rne) emulated in pure PyTorch, as one writes it today without lmul: bit
manipulation on int32/int64 views of float32 tensors, every product materialised, then summed.
The same products as lmul's kernels (core/arith/lmul_math.h's definition; checked against lmul by
python/tests/test_torch.py): operands reduced to m mantissa bits (nearest-even; fp32 subnormals
flush to 0, overflow saturates), then bits(x) + bits(y) − (0x3F800000 − 2^(23−l(m))) on the
magnitudes, sign XOR, zero / NaN / Inf as IEEE, exponent under/overflow to ±0 / ±Inf.
Used by bench/python_speed.py as the baseline lmul.torch.Linear is timed against."""
import torch

SIGN, INF, MIN_NORMAL = -0x80000000, 0x7F800000, 0x00800000


def l_of(m):
    return m if m <= 3 else 3 if m == 4 else 4


def reduce(x, m):
    """x rounded to m mantissa bits (nearest-even), fp32 exponent range, as lmul:m=M,round=rne."""
    b = x.contiguous().view(torch.int32)
    shift = 23 - m
    mag = b & 0x7FFFFFFF
    r = (mag + ((1 << (shift - 1)) - 1) + ((mag >> shift) & 1)) & ~((1 << shift) - 1)
    largest = (0x7F000000 | (((1 << m) - 1) << shift))  # (2 − 2^−m)·2^127
    r = torch.where(r >= INF, torch.full_like(r, largest), r)
    r = torch.where(mag < MIN_NORMAL, torch.zeros_like(r), r)  # zeros and subnormals → ±0
    r = torch.where(mag >= INF, mag, r)  # Inf and NaN as they are
    return (r | (b & SIGN)).view(torch.float32)


def products(xr, yr, m):
    """Elementwise L-Mul bits products of already reduced operands (broadcasting)."""
    bx, by = xr.view(torch.int32), yr.view(torch.int32)
    sign = (bx ^ by) & SIGN
    mx, my = (bx & 0x7FFFFFFF).long(), (by & 0x7FFFFFFF).long()
    t = mx + my - (0x3F800000 - (1 << (23 - l_of(m))))
    t = torch.where(t < MIN_NORMAL, torch.zeros_like(t), t)
    t = torch.where(t >= INF, torch.full_like(t, INF), t)
    zero = (mx < MIN_NORMAL) | (my < MIN_NORMAL)
    p = torch.where(zero, torch.zeros_like(t), t).int() | sign
    p = p.view(torch.float32)
    special = (mx >= INF) | (my >= INF)  # NaN or Inf: IEEE's product (Inf·0 = NaN)
    return torch.where(special, xr * yr, p)


def lmul_mm(a, b, m, rows_per_chunk=None):
    """a (M, K) · b (K, N) with L-Mul products of a and b as given (already reduced), fp32 sums.
    Materialises chunk × K × N products at a time (about 4M elements by default)."""
    M, K = a.shape
    N = b.shape[1]
    chunk = rows_per_chunk or max(1, (1 << 22) // max(1, K * N))
    out = torch.empty(M, N)
    bt = b.t().contiguous()  # (N, K)
    for i in range(0, M, chunk):
        p = products(a[i:i + chunk, None, :], bt[None, :, :], m)  # (chunk, N, K)
        out[i:i + chunk] = p.sum(-1) + 0.0  # + 0.0: a sum of zero products is +0, as a GEMM from 0
    return out


def lmul_linear(x, w, m=4):
    """x (N, Cin) · w (Cout, Cin)ᵀ with both operands reduced first: lmul:m=M's Linear forward."""
    return lmul_mm(reduce(x, m), reduce(w, m).t(), m)


class EmulatedLinearFunction(torch.autograd.Function):
    """Straight-through Linear with every GEMM emulated (forward and both gradient GEMMs, as lmul's
    backward="same"): y = Q(x)·Q(w)ᵀ + b, dx = Q(dy)·Q(w), dw = Q(dy)ᵀ·Q(x)."""

    @staticmethod
    def forward(ctx, x, w, b, m):
        shape = x.shape
        xq, wq = reduce(x.reshape(-1, shape[-1]), m), reduce(w, m)
        ctx.save_for_backward(xq, wq)
        ctx.m, ctx.shape = m, shape
        y = lmul_mm(xq, wq.t(), m)
        if b is not None:
            y += b
        return y.reshape(*shape[:-1], w.shape[0])

    @staticmethod
    def backward(ctx, dy):
        xq, wq = ctx.saved_tensors
        m = ctx.m
        dyq = reduce(dy.reshape(-1, dy.shape[-1]), m)
        dx = lmul_mm(dyq, wq, m).reshape(ctx.shape)
        dw = lmul_mm(dyq.t().contiguous(), xq, m)
        return dx, dw, dy.reshape(-1, dy.shape[-1]).sum(0), None


class EmulatedLinear(torch.nn.Linear):
    def __init__(self, in_features, out_features, bias=True, m=4):
        super().__init__(in_features, out_features, bias=bias)
        self.m = m

    def forward(self, x):
        return EmulatedLinearFunction.apply(x, self.weight, self.bias, self.m)
