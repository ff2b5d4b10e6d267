"""The MatMul-free LM (HGRNBitForCausalLM of ridgerchu/matmulfreellm, pinned a016f72) written out in
plain PyTorch, as ../shared/research/matmulfree_spec.md describes the code's semantics. No Triton,
no fused kernels: every op is spelled out so that it runs in float32 or float64 on the CPU.

Used by scripts/make_matmulfree_golden.py; also loads `lmul export` output by name:

    model = HGRNBit(HGRNBitConfig(vocab_size=65, n_layer=2, n_embd=64))
    tensors, meta = load_safetensors("export.safetensors")
    model.load_state_dict(tensors)

Quantisation (quant=True) is the fused BitLinear's: inner RMSNorm (eps 1e-6, spec §2 ⚠), then
per-token absmax int8 activations s_a = 127/max(max|y|, 1e-5), y_q = clamp(round(y*s_a), -128, 127)/s_a,
and per-tensor absmean ternary weights s_w = 1/max(mean|W|, 1e-5), W_q = clamp(round(W*s_w), -1, 1)/s_w,
with the straight-through estimator x + (q(x) - x).detach(). torch.round rounds ties to even for both
(the reference's act_round='even'; the repo's Triton kernel rounds activation ties away from zero —
only exact .5 ties differ). quant=False is the same model with every BitLinear an exact fp linear.
"""

import math
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class HGRNBitConfig:
    vocab_size: int = 32000
    n_layer: int = 24
    n_embd: int = 2048
    intermediate_size: int = 0      # 0: 256*ceil(int(d*4*2/3)/256) (modeling_hgrn_bit.py:43-47)
    use_lower_bound: bool = True
    rms_norm_eps: float = 1e-6
    quant: bool = True

    def resolved_intermediate_size(self):
        if self.intermediate_size:
            return self.intermediate_size
        return 256 * ((int(self.n_embd * 4 * 2 / 3) + 255) // 256)


def rms_norm(x, w, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def activation_quant(y):
    s = 127.0 / y.abs().max(dim=-1, keepdim=True).values.clamp(min=1e-5)
    return (y * s).round().clamp(-128, 127) / s


def weight_quant(w):
    s = 1.0 / w.abs().mean().clamp(min=1e-5)
    return (w * s).round().clamp(-1, 1) / s


def ternary_codes(w):
    """The integers in {-1, 0, 1} that weight_quant multiplies by m = mean|W|."""
    s = 1.0 / w.abs().mean().clamp(min=1e-5)
    return (w * s).round().clamp(-1, 1)


class RMSNorm(nn.Module):
    def __init__(self, n, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(n))
        self.eps = eps

    def forward(self, x):
        return rms_norm(x, self.weight, self.eps)


class BitLinear(nn.Linear):
    def __init__(self, n_in, n_out, eps, quant):
        super().__init__(n_in, n_out, bias=False)
        self.norm = RMSNorm(n_in, eps)
        self.quant = quant

    def forward(self, x):
        y = self.norm(x)
        w = self.weight
        if self.quant:
            y = y + (activation_quant(y) - y).detach()
            w = w + (weight_quant(w) - w).detach()
        return F.linear(y, w)


class HGRNBitAttention(nn.Module):
    """The MLGRU token mixer (layers/hgrn_bit.py:83-142)."""

    def __init__(self, c):
        super().__init__()
        d, eps = c.n_embd, c.rms_norm_eps
        self.i_proj = BitLinear(d, d, eps, c.quant)
        self.f_proj = BitLinear(d, d, eps, c.quant)
        self.g_proj = BitLinear(d, d, eps, c.quant)
        self.g_norm = RMSNorm(d, eps)
        self.o_proj = BitLinear(d, d, eps, c.quant)

    def forward(self, a, lower_bound=None):
        i = self.i_proj(a)
        f = torch.sigmoid(self.f_proj(a))
        if lower_bound is not None:
            f = lower_bound + (1 - lower_bound) * f
        c = F.silu(i) * (1 - f)          # swiglu(i, 1 - f)
        h = torch.zeros_like(c[:, 0])
        hs = []
        for t in range(c.shape[1]):      # h_t = f_t * h_{t-1} + c_t, h_{-1} = 0
            h = f[:, t] * h + c[:, t]
            hs.append(h)
        h = torch.stack(hs, dim=1)
        o = self.g_norm(self.g_proj(a)) * F.silu(h)   # FusedRMSNormSwishGate(g, h)
        return self.o_proj(o)


class HGRNBitMLP(nn.Module):
    def __init__(self, c):
        super().__init__()
        d, eps, I = c.n_embd, c.rms_norm_eps, c.resolved_intermediate_size()
        self.gate_proj = BitLinear(d, 2 * I, eps, c.quant)
        self.down_proj = BitLinear(I, d, eps, c.quant)

    def forward(self, x):
        u, v = self.gate_proj(x).chunk(2, -1)
        return self.down_proj(F.silu(u) * v)


class HGRNBitBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.attn_norm = RMSNorm(c.n_embd, c.rms_norm_eps)
        self.attn = HGRNBitAttention(c)
        self.mlp_norm = RMSNorm(c.n_embd, c.rms_norm_eps)
        self.mlp = HGRNBitMLP(c)

    def forward(self, x, lower_bound=None):
        x = x + self.attn(self.attn_norm(x), lower_bound)
        return x + self.mlp(self.mlp_norm(x))


class HGRNBitModel(nn.Module):
    def __init__(self, c):
        super().__init__()
        if c.use_lower_bound:
            self.lower_bounds = nn.Parameter(torch.zeros(c.n_layer, c.n_embd))
        self.embeddings = nn.Embedding(c.vocab_size, c.n_embd)
        self.layers = nn.ModuleList([HGRNBitBlock(c) for _ in range(c.n_layer)])
        self.norm = RMSNorm(c.n_embd, c.rms_norm_eps)
        self.use_lower_bound = c.use_lower_bound

    def forward(self, idx):
        x = self.embeddings(idx)
        if self.use_lower_bound:
            s = self.lower_bounds.softmax(0)
            lb = s.cumsum(0) - s[0]
        for i, layer in enumerate(self.layers):
            x = layer(x, lb[i] if self.use_lower_bound and i > 0 else None)  # layer 0 is not floored
        return self.norm(x)


class HGRNBit(nn.Module):
    """HGRNBitForCausalLM: state_dict names model.lower_bounds, model.embeddings.weight,
    model.layers.{i}.attn.i_proj.weight, ..., model.norm.weight, lm_head.weight, lm_head.norm.weight."""

    def __init__(self, c):
        super().__init__()
        self.config = c
        self.model = HGRNBitModel(c)
        self.lm_head = BitLinear(c.n_embd, c.vocab_size, c.rms_norm_eps, c.quant)

    def init_weights(self):
        """The reference's initial distributions (spec §6), not its RNG stream."""
        c = self.config
        with torch.no_grad():
            for name, p in self.named_parameters():
                if name.endswith("norm.weight"):
                    p.fill_(1.0)
                elif name == "model.lower_bounds":
                    p.zero_()
                elif ".attn." in name:
                    nn.init.xavier_uniform_(p, gain=2 ** -2.5)
                elif name.endswith("down_proj.weight"):
                    p.normal_(0, 0.02 / math.sqrt(2 * c.n_layer))
                else:
                    p.normal_(0, 0.02)

    def forward(self, idx, targets=None):
        logits = self.lm_head(self.model(idx))
        loss = None
        if targets is not None:
            loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), targets.reshape(-1), ignore_index=-1)
        return logits, loss
