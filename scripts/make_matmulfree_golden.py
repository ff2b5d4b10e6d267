"""Golden values for the C++ MatMul-free LM (tests/test_matmulfree_golden.cpp):

    tests/golden/matmulfree_tiny_exact.safetensors    quantisation off (every BitLinear exact)
    tests/golden/matmulfree_tiny_ternary.safetensors  quantisation on (int8 activations x ternary weights)

Run from the repo root:   /usr/bin/python3 scripts/make_matmulfree_golden.py
(PyTorch is not a build dependency: the outputs are committed.)

The model is scripts/matmulfree_reference.py (HGRNBitForCausalLM written out from
../shared/research/matmulfree_spec.md). Tiny instance: vocab 65, 2 layers, width 64,
intermediate_size 256 (the reference's rounding rule), lower bounds on; one batch B=2, T=16 with
one target set to -1 (ignored). Initial weights: the reference's distributions (seed 1337), then —
so that no path hides behind a weight of exactly 1 or 0 — every norm weight is 1 + N(0, 0.1) and
lower_bounds is N(0, 0.5). Both files hold the same weights.

Each file: param.<name> (state_dict names; metadata "state_dict" lists them in order), idx, targets (I32), logits (B,T,V), loss (1,),
grad.<name> for every parameter; the ternary file also codes.<name> (I32 in {-1,0,1}) for every
BitLinear weight: round(W / mean|W|) clamped, the codes the quantiser multiplies.

Precision. quant off: computed in float64 and stored as float32 (the C++ fp32 model should agree to
~1e-5 relative). quant on: computed in float32 (as the repo's kernels), because the quantiser's
rounding boundaries are what must be reproduced; an fp32 summation-order difference can still move
an element across a boundary, so the test compares codes exactly and the loss/gradients within a
bound. The script prints the float32-vs-float64 agreement of both as the noise floor.
"""

import copy
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gpt_reference import save_safetensors, load_safetensors  # noqa: E402
from matmulfree_reference import HGRNBit, HGRNBitConfig, ternary_codes  # noqa: E402

OUT_DIR = "tests/golden"
SEED, DATA_SEED = 1337, 42
B, T = 2, 16


def tiny_config(quant):
    return HGRNBitConfig(vocab_size=65, n_layer=2, n_embd=64, use_lower_bound=True, rms_norm_eps=1e-6, quant=quant)


def make_model(quant):
    torch.manual_seed(SEED)
    m = HGRNBit(tiny_config(quant))
    m.init_weights()
    with torch.no_grad():
        for name, p in m.named_parameters():
            if name.endswith("norm.weight"):
                p.add_(torch.randn_like(p) * 0.1)
            elif name == "model.lower_bounds":
                p.copy_(torch.randn_like(p) * 0.5)
    return m


def make_batch():
    g = torch.Generator().manual_seed(DATA_SEED)
    seq = torch.randint(0, 65, (B, T + 1), generator=g)
    idx, targets = seq[:, :-1].contiguous(), seq[:, 1:].contiguous()
    targets[0, 3] = -1  # an ignored position: adds nothing to the loss nor to its count
    return idx, targets


def run(model, idx, targets):
    model.zero_grad(set_to_none=True)
    logits, loss = model(idx, targets)
    loss.backward()
    return {
        "logits": logits.detach().clone(),
        "loss": loss.detach().reshape(1).clone(),
        "grads": {n: p.grad.detach().clone() for n, p in model.named_parameters()},
    }


def max_rel_err(a, b):
    a, b = a.double(), b.double()
    return ((a - b).abs().max() / b.abs().max().clamp_min(1e-30)).item()


def make(quant):
    m32 = make_model(quant)
    m64 = copy.deepcopy(m32).double()
    idx, targets = make_batch()
    r32, r64 = run(m32, idx, targets), run(m64, idx, targets)
    ref = r32 if quant else r64
    tensors = {"param." + n: p.detach().float().clone() for n, p in m32.named_parameters()}
    tensors["idx"] = idx.to(torch.int32)
    tensors["targets"] = targets.to(torch.int32)
    tensors["logits"] = ref["logits"].float()
    tensors["loss"] = ref["loss"].float()
    for n, g in ref["grads"].items():
        tensors["grad." + n] = g.float()
    if quant:
        for n, p in m32.named_parameters():
            if n.endswith(".weight") and p.dim() == 2 and n != "model.embeddings.weight":
                tensors["codes." + n] = ternary_codes(p.detach()).to(torch.int32)
    c = tiny_config(quant)
    meta = {
        "vocab_size": c.vocab_size, "n_layer": c.n_layer, "n_embd": c.n_embd,
        "intermediate_size": c.resolved_intermediate_size(), "use_lower_bound": "true",
        "rms_norm_eps": c.rms_norm_eps, "quant": "true" if quant else "false",
        "precision": "float32" if quant else "float64 stored as float32",
        "act_round": "even", "batch_size": B, "seq_len": T, "seed": SEED, "data_seed": DATA_SEED,
        "ignored_target": "targets[0,3] = -1",
        "state_dict": ",".join(n for n, _ in m32.named_parameters()),
        "torch": torch.__version__,
        "command": "/usr/bin/python3 scripts/make_matmulfree_golden.py",
    }
    os.makedirs(OUT_DIR, exist_ok=True)
    path = os.path.join(OUT_DIR, "matmulfree_tiny_%s.safetensors" % ("ternary" if quant else "exact"))
    save_safetensors(path, tensors, meta)
    back, _ = load_safetensors(path)
    assert all(torch.equal(back[k], tensors[k]) for k in tensors)
    n_params = sum(p.numel() for p in m32.parameters())
    print("%s: %d tensors, %d bytes, %d parameters, loss %.6f" % (
        path, len(tensors), os.path.getsize(path), n_params, ref["loss"].item()))
    print("  float32 vs float64: logits %.2e  loss %.2e  grads %.2e (max over tensors)" % (
        max_rel_err(r32["logits"], r64["logits"]), max_rel_err(r32["loss"], r64["loss"]),
        max(max_rel_err(r32["grads"][n], r64["grads"][n]) for n in r32["grads"])))


if __name__ == "__main__":
    torch.set_num_threads(1)
    make(False)
    make(True)
