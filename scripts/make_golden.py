"""Generate the golden files the C++ GPT is tested against:

    tests/golden/gpt_tiny_bias.safetensors     (bias=True)
    tests/golden/gpt_tiny_nobias.safetensors   (bias=False)

Run from the repo root:   /usr/bin/python3 scripts/make_golden.py
(PyTorch is not a build dependency: the outputs are committed.)

Each file holds, for a tiny nanoGPT (2 layers, 2 heads, 32 wide, block 16, vocab 65, dropout 0)
initialised with torch.manual_seed(1337), and one fixed batch (B=4, T=16):
  param.<name>   every parameter, nanoGPT state_dict names; lm_head.weight is omitted because it
                 IS transformer.wte.weight (tied)
  idx, targets   I32 (4, 16)
  logits         (4, 16, 65);  loss (1,) = mean cross-entropy over all B*T positions
  grad.<name>    d loss / d param (wte's includes the tied head's contribution)
  step3.<name>   parameters after 3 training steps on the same batch, each step:
                 zero grads, forward+backward, clip_grad_norm_(params, grad_clip), AdamW step
  grad_norm (3,) total L2 norm (before clipping) returned by clip_grad_norm_ at each step
  loss_steps (3,) loss at each step, before that step's update (loss_steps[0] == loss)
All floats are F32, computed in float32. A float64 run from the same initial weights is done as
a sanity check and its max error vs float32 is printed (the noise floor tests should allow for).

KEY_BIAS_NOTE: the key third of attn.c_attn.bias (entries n_embd..2*n_embd) has a mathematically
zero gradient (adding a constant vector to every key shifts each query's scores uniformly, which
softmax ignores). Its stored grad is float32 rounding noise (~1e-10), and Adam normalises that noise
into real updates, so its step3 values differ between any two implementations by up to ~1e-5:
compare step3 with an absolute tolerance of a few 1e-5, or skip that slice.

Torch semantics worth copying exactly on the C++ side:
  * clip_grad_norm_: coef = max_norm / (total_norm + 1e-6); grads *= min(coef, 1).
  * AdamW (torch 1.13, single-tensor): p *= 1 - lr*wd; m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g^2;
    p -= (lr / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps).
  * weight decay only on tensors with dim >= 2 (all weights and both embeddings), not on
    biases or LayerNorm weights.
"""

import copy
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gpt_reference import GPT, GPTConfig, save_safetensors, load_safetensors  # noqa: E402

OUT_DIR = "tests/golden"
SEED = 1337        # torch.manual_seed before building the model (nanoGPT's seed)
DATA_SEED = 42     # separate generator for the token batch, so init and data are independent
B, T = 4, 16
N_STEPS = 3
# Training hyper-parameters for the step3 tensors. lr is large so 3 steps move the weights
# visibly. GRAD_CLIP = 1.0 (nanoGPT's) is below the gradient norm at all 3 steps for both files
# (1.54/1.65/2.13 with bias, 1.13/1.05/1.27 without), so the clipping branch is exercised
# (the script asserts it happens at least once).
LR, BETA1, BETA2, EPS, WEIGHT_DECAY = 1e-2, 0.9, 0.99, 1e-8, 0.1
GRAD_CLIP = 1.0


def tiny_config(bias):
    return GPTConfig(block_size=16, vocab_size=65, n_layer=2, n_head=2, n_embd=32, dropout=0.0, bias=bias)


def make_batch(cfg):
    """Random token ids; targets are idx shifted by one, as nanoGPT's get_batch would give."""
    g = torch.Generator().manual_seed(DATA_SEED)
    seq = torch.randint(0, cfg.vocab_size, (B, T + 1), generator=g)
    return seq[:, :-1].contiguous(), seq[:, 1:].contiguous()


def run(model, idx, targets):
    """Forward/backward at the initial weights, then N_STEPS training steps on the same batch.
    Returns a dict of result tensors (in the model's dtype)."""
    names = [n for n, _ in model.named_parameters()]
    assert "lm_head.weight" not in names  # tied: reported once as transformer.wte.weight
    res = {"params": {n: p.detach().clone() for n, p in model.named_parameters()}}

    model.zero_grad(set_to_none=True)
    logits, loss = model(idx, targets)
    loss.backward()
    res["logits"] = logits.detach().clone()
    res["loss"] = loss.detach().reshape(1).clone()
    res["grads"] = {n: p.grad.detach().clone() for n, p in model.named_parameters()}

    # Training: fresh optimizer state, same batch each step (step 1 recomputes the grads above).
    opt = model.configure_optimizers(WEIGHT_DECAY, LR, (BETA1, BETA2))
    for group in opt.param_groups:
        group["eps"] = EPS
    norms, losses = [], []
    for _ in range(N_STEPS):
        opt.zero_grad(set_to_none=True)
        _, loss = model(idx, targets)
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), GRAD_CLIP)
        opt.step()
        norms.append(norm.detach().reshape(()))
        losses.append(loss.detach().reshape(()))
    res["grad_norm"] = torch.stack(norms)
    res["loss_steps"] = torch.stack(losses)
    res["step3"] = {n: p.detach().clone() for n, p in model.named_parameters()}
    return res


def max_rel_err(a, b):
    """max |a - b| / max |b| (error relative to the tensor's scale; avoids blow-ups near 0)."""
    a, b = a.double(), b.double()
    return ((a - b).abs().max() / b.abs().max().clamp_min(1e-30)).item()


def compare(r32, r64, n_embd):
    """Per-category worst relative error of the float32 run against the float64 run."""
    cats = {
        "logits": max_rel_err(r32["logits"], r64["logits"]),
        "loss": max_rel_err(r32["loss"], r64["loss"]),
        "grads": max(max_rel_err(r32["grads"][n], r64["grads"][n]) for n in r32["grads"]),
        "grad_norm": max_rel_err(r32["grad_norm"], r64["grad_norm"]),
        "loss_steps": max_rel_err(r32["loss_steps"], r64["loss_steps"]),
        # step3 compared as the update (step3 - init), the part the optimizer is responsible for
        "step3_update": max(
            max_rel_err(r32["step3"][n] - r32["params"][n], r64["step3"][n] - r64["params"][n])
            for n in r32["step3"]),
        "step3": max(max_rel_err(r32["step3"][n], r64["step3"][n]) for n in r32["step3"]),
        # absolute error, and the same with the key slice of c_attn.bias left out (see KEY_BIAS_NOTE)
        "step3_abs": max((r32["step3"][n].double() - r64["step3"][n]).abs().max().item() for n in r32["step3"]),
        "step3_abs_no_kbias": max(
            (without_key_bias(n, r32["step3"][n], n_embd).double() - without_key_bias(n, r64["step3"][n], n_embd))
            .abs().max().item() for n in r32["step3"]),
    }
    return cats


def without_key_bias(name, t, n_embd):
    """Drop the key third of c_attn.bias (entries n_embd..2*n_embd), whose gradient is exactly 0."""
    if name.endswith("attn.c_attn.bias"):
        return torch.cat([t[:n_embd], t[2 * n_embd:]])
    return t


def make(bias):
    cfg = tiny_config(bias)
    torch.manual_seed(SEED)
    model32 = GPT(cfg)
    model64 = copy.deepcopy(model32).double()  # same initial weights, tying preserved
    assert model64.lm_head.weight is model64.transformer.wte.weight
    idx, targets = make_batch(cfg)

    r32 = run(model32, idx, targets)
    r64 = run(model64, idx, targets)

    norms = r32["grad_norm"].tolist()
    assert any(n > GRAD_CLIP for n in norms), f"clipping never happens: norms {norms} <= {GRAD_CLIP}"

    tensors = {}
    for n, p in r32["params"].items():
        tensors["param." + n] = p
    tensors["idx"] = idx.to(torch.int32)
    tensors["targets"] = targets.to(torch.int32)
    tensors["logits"] = r32["logits"]
    tensors["loss"] = r32["loss"]
    for n, g in r32["grads"].items():
        tensors["grad." + n] = g
    tensors["grad_norm"] = r32["grad_norm"]
    tensors["loss_steps"] = r32["loss_steps"]
    for n, p in r32["step3"].items():
        tensors["step3." + n] = p
    assert all(t.dtype in (torch.float32, torch.int32) for t in tensors.values())

    meta = {
        "n_layer": cfg.n_layer, "n_head": cfg.n_head, "n_embd": cfg.n_embd,
        "block_size": cfg.block_size, "vocab_size": cfg.vocab_size,
        "bias": "true" if bias else "false", "dropout": cfg.dropout,
        "batch_size": B, "seq_len": T, "seed": SEED, "data_seed": DATA_SEED,
        "lr": LR, "beta1": BETA1, "beta2": BETA2, "eps": EPS, "weight_decay": WEIGHT_DECAY,
        "grad_clip": GRAD_CLIP, "steps": N_STEPS,
        "layer_norm_eps": 1e-5, "gelu": "erf", "tied": "lm_head.weight=transformer.wte.weight",
        "note_key_bias": "grad of attn.c_attn.bias[n_embd:2*n_embd] is exactly 0 in exact arithmetic; "
                         "its step3 values are float32 noise amplified by Adam (differences ~1e-5)",
        "clip_formula": "coef=max_norm/(total_norm+1e-6); grads*=min(coef,1)",
        "torch": torch.__version__,
        "command": "/usr/bin/python3 scripts/make_golden.py",
    }
    os.makedirs(OUT_DIR, exist_ok=True)
    path = os.path.join(OUT_DIR, "gpt_tiny_%s.safetensors" % ("bias" if bias else "nobias"))
    save_safetensors(path, tensors, meta)

    # Round-trip check of our own writer.
    back, bmeta = load_safetensors(path)
    assert list(back) == list(tensors) and bmeta["bias"] == meta["bias"]
    assert all(torch.equal(back[k], tensors[k]) for k in tensors)

    print("%s: %d tensors, %d bytes" % (path, len(tensors), os.path.getsize(path)))
    print("  loss %.6f  loss_steps %s  grad_norm %s (clip %.2f)" % (
        r32["loss"].item(), ["%.6f" % x for x in r32["loss_steps"].tolist()],
        ["%.6f" % x for x in norms], GRAD_CLIP))
    print("  float32 vs float64, max |f32-f64| / max|f64| per category:")
    for k, v in compare(r32, r64, cfg.n_embd).items():
        print("    %-12s %.3e" % (k, v))


if __name__ == "__main__":
    torch.set_num_threads(1)  # deterministic reduction order; tiny model, speed irrelevant
    make(bias=True)
    make(bias=False)
