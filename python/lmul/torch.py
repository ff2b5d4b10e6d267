"""lmul's arithmetic inside PyTorch models (CPU, float32): torch.autograd.Functions over lmul's own
kernels, with lmul's straight-through backward (core/ops/linear.cpp, core/ops/matmul.cpp):

    forward   y = Q(x)·Q(w)ᵀ + b            Q: the forward arithmetic's rounding (activation, weight)
    backward  dx = Q'(dy)·Q(w)               Q': the backward arithmetic's rounding of the gradient;
              dw = Q'(dy)ᵀ·Q(x)              with backward="same" the forward's Q(x), Q(w) are reused,
              db = Σ_rows dy                 else rounded again by the backward arithmetic

and the products of every GEMM formed as the arithmetic forms them (the L-Mul bits kernel, the
formula GEMM, quantise-then-sgemm, the int8 GEMM of `gemm=int`). Swap a model's nn.Linear:

    self.c_fc = lmul.torch.Linear(n_embd, 4 * n_embd, bias=bias, arith="lmul:m=4")

Linear subclasses nn.Linear (same parameters, state_dict and init). The site's own state (fp8
delayed scaling's amax history) lives in module.site (lmul.Site), not in the state_dict.
Importing this module imports torch; `import lmul` alone does not.
"""
import torch

from . import _lmul

__all__ = ["Linear", "matmul", "LinearFunction", "MatmulFunction"]


def _array(t, what):
    """The tensor's values as a NumPy array sharing its memory (CPU float32 only)."""
    if t.device.type != "cpu" or t.dtype != torch.float32:
        raise ValueError(f"lmul: error: {what}: lmul runs on CPU float32 tensors, got {t.dtype} on {t.device}")
    return t.detach().numpy()


class LinearFunction(torch.autograd.Function):
    """y = x·wᵀ + b through an lmul.Site (see the module's docstring)."""

    @staticmethod
    def forward(ctx, x, weight, bias, site):
        need_grad = any(ctx.needs_input_grad[:3])
        x_np, w_np = _array(x, "Linear input"), _array(weight, "Linear weight")
        y, xq, wq = site.linear_forward(x_np, w_np, need_grad)
        y = torch.from_numpy(y)
        if bias is not None:
            y += bias.detach()  # lmul's y[i, j] += b[j], one fp32 add per element
        if need_grad:
            ctx.site = site
            # The operands the forward multiplied: lmul's rounded copies, or x and weight themselves,
            # saved as tensors so that autograd catches an in-place change before the backward.
            ctx.xq, ctx.wq = xq, wq
            ctx.save_for_backward(x if xq is None else None, weight if wq is None else None)
            ctx.has_bias = bias is not None
        return y

    @staticmethod
    def backward(ctx, dy):
        need_dx, need_dw, need_db = ctx.needs_input_grad[:3]
        x, weight = ctx.saved_tensors
        xq = ctx.xq if ctx.xq is not None else _array(x, "Linear input")
        wq = ctx.wq if ctx.wq is not None else _array(weight, "Linear weight")
        dx, dw, db = ctx.site.linear_backward(_array(dy, "Linear gradient"), xq, wq, need_dx, need_dw,
                                              need_db and ctx.has_bias)
        as_tensor = (lambda a: None if a is None else torch.from_numpy(a))
        return as_tensor(dx), as_tensor(dw), as_tensor(db), None


class MatmulFunction(torch.autograd.Function):
    """c = a·b of 2-D tensors through an lmul.Site, both operands rounded as activations (lmul's
    matmul/bmm: attention's products): dA = Q'(dC)·B₂ᵀ, dB = A₂ᵀ·Q'(dC)."""

    @staticmethod
    def forward(ctx, a, b, site):
        aq = site.quantize(_array(a, "matmul a"), "activation")
        bq = site.quantize(_array(b, "matmul b"), "activation")
        ctx.site, ctx.aq, ctx.bq = site, aq, bq
        return torch.from_numpy(site.gemm(aq, bq))

    @staticmethod
    def backward(ctx, dc):
        site = ctx.site
        dcq = site.quantize(_array(dc, "matmul gradient"), "gradient", backward=True)
        a2 = ctx.aq if site.backward_same else site.quantize(ctx.aq, "activation", backward=True)
        b2 = ctx.bq if site.backward_same else site.quantize(ctx.bq, "activation", backward=True)
        da = torch.from_numpy(site.gemm(dcq, b2, trans_b=True, backward=True)) if ctx.needs_input_grad[0] else None
        db = torch.from_numpy(site.gemm(a2, dcq, trans_a=True, backward=True)) if ctx.needs_input_grad[1] else None
        return da, db, None


class Linear(torch.nn.Linear):
    """nn.Linear whose product goes through lmul's arithmetic `arith` (a spec, e.g. "lmul:m=4",
    "fp8:hybrid", "int:b=8,gemm=int") and whose gradient GEMMs use `backward` ("same", "exact" or a
    spec). seed feeds stochastic rounding; name appears in error messages."""

    def __init__(self, in_features, out_features, bias=True, arith="lmul:m=4", backward="same", seed=0,
                 name="linear", device=None, dtype=None):
        super().__init__(in_features, out_features, bias=bias, device=device, dtype=dtype)
        self.site = _lmul.Site(arith, backward, seed, name)

    def forward(self, x):
        return LinearFunction.apply(x, self.weight, self.bias, self.site)

    def extra_repr(self):
        return f"{super().extra_repr()}, arith={self.site.spec}, backward={self.site.backward_spec}"


def matmul(a, b, arith="lmul:m=4", backward="same", seed=0, site=None):
    """a (M, K) · b (K, N) as lmul's matmul site forms it, differentiable. A spec makes a fresh site
    per call; pass site=lmul.Site(...) to keep a stateful format's history across calls."""
    if site is None:
        site = _lmul.Site(arith, backward, seed, "matmul")
    if a.dim() != 2 or b.dim() != 2:
        raise ValueError(f"lmul: error: matmul: expected 2-D operands, got {tuple(a.shape)} and {tuple(b.shape)}")
    return MatmulFunction.apply(a, b, site)
