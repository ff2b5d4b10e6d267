"""Generate tests/golden/gpt_tiny_lmul4.safetensors: nanoGPT's tiny model (gpt_tiny_bias's weights and
batch, scripts/make_golden.py) trained in PyTorch with every Block Linear (attn.c_attn, attn.c_proj,
mlp.c_fc, mlp.c_proj) swapped for lmul.torch.Linear(arith="lmul:m=4"); attention and lm_head exact,
as lmul's C++ GPT with [arith] linear = "lmul:m=4". tests/test_gpt_golden.cpp trains lmul's C++ GPT
from the same weights and batch and compares; python/tests/test_torch.py re-runs this training.

Run from the repo root, with the module built:
    PYTHONPATH=build/python OMP_WAIT_POLICY=passive /usr/bin/python3 scripts/make_lmul_golden.py

The file holds:
  loss_steps (STEPS,), grad_norm (STEPS,)  loss before each AdamW step, total grad norm before clipping
  stepN.<name>                            the parameters after the STEPS steps
  site.<module>.{x,dy,y,dx,dw,db}         every lmul Linear's GEMMs at the first forward/backward:
                                          input, incoming gradient and the three results, which lmul's
                                          C++ linear() must reproduce bit for bit from x, dy and the
                                          golden weights
"""

import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from gpt_reference import GPT, GPTConfig, load_safetensors, save_safetensors  # noqa: E402

import lmul.torch  # noqa: E402

SOURCE = os.path.join(HERE, "..", "tests", "golden", "gpt_tiny_bias.safetensors")
OUT = os.path.join(HERE, "..", "tests", "golden", "gpt_tiny_lmul4.safetensors")
ARITH = "lmul:m=4"
STEPS = 5
LINEARS = ["attn.c_attn", "attn.c_proj", "mlp.c_fc", "mlp.c_proj"]


def lmul_model(arith=ARITH):
    """nanoGPT's tiny model with gpt_tiny_bias's weights, Block Linears through lmul (arith=None: exact)."""
    g, meta = load_safetensors(SOURCE)
    cfg = GPTConfig(block_size=int(meta["block_size"]), vocab_size=int(meta["vocab_size"]),
                    n_layer=int(meta["n_layer"]), n_head=int(meta["n_head"]), n_embd=int(meta["n_embd"]),
                    dropout=0.0, bias=meta["bias"] == "true")
    model = GPT(cfg)
    if arith is not None:
        for i, block in enumerate(model.transformer.h):
            for path in LINEARS:
                parent, leaf = path.split(".")
                old = getattr(getattr(block, parent), leaf)
                name = f"transformer.h.{i}.{path}"
                setattr(getattr(block, parent), leaf,
                        lmul.torch.Linear(old.in_features, old.out_features, bias=old.bias is not None, arith=arith,
                                          name=name))
    with torch.no_grad():
        for n, p in model.named_parameters():
            p.copy_(g["param." + n])
    return model, g, meta


def record_sites(model):
    """Hooks that keep every lmul Linear's input, output and gradients at the first forward/backward."""
    rec = {}
    for name, m in model.named_modules():
        if isinstance(m, lmul.torch.Linear):
            def fwd(mod, inp, out, name=name):
                if name + ".x" not in rec:
                    rec[name + ".x"], rec[name + ".y"] = inp[0].detach().clone(), out.detach().clone()
                    inp[0].register_hook(lambda g, name=name: rec.setdefault(name + ".dx", g.detach().clone()))
                    out.register_hook(lambda g, name=name: rec.setdefault(name + ".dy", g.detach().clone()))
            m.register_forward_hook(fwd)
    return rec


def train(arith=ARITH, steps=STEPS):
    """The training of make_golden.py (same batch each step, clipping, AdamW): a dict of results."""
    model, g, meta = lmul_model(arith)
    rec = record_sites(model)
    idx, targets = g["idx"].long(), g["targets"].long()
    opt = model.configure_optimizers(float(meta["weight_decay"]), float(meta["lr"]),
                                     (float(meta["beta1"]), float(meta["beta2"])))
    for group in opt.param_groups:
        group["eps"] = float(meta["eps"])
    losses, norms = [], []
    for step in range(steps):
        opt.zero_grad(set_to_none=True)
        _, loss = model(idx, targets)
        loss.backward()
        if step == 0:
            for name, m in model.named_modules():
                if isinstance(m, lmul.torch.Linear):
                    rec[name + ".dw"] = m.weight.grad.detach().clone()
                    rec[name + ".db"] = m.bias.grad.detach().clone()
        norms.append(torch.nn.utils.clip_grad_norm_(model.parameters(), float(meta["grad_clip"])).reshape(()))
        losses.append(loss.detach().reshape(()))
        opt.step()
    out = {"loss_steps": torch.stack(losses), "grad_norm": torch.stack(norms).detach()}
    for n, p in model.named_parameters():
        out[f"step{steps}.{n}"] = p.detach().clone()
    for k, v in rec.items():
        out["site." + k] = v
    return out


def main():
    torch.set_num_threads(1)
    res = train()
    meta = {"source": "gpt_tiny_bias.safetensors", "arith": ARITH, "steps": STEPS,
            "sites": ",".join(LINEARS), "torch": torch.__version__,
            "command": "PYTHONPATH=build/python /usr/bin/python3 scripts/make_lmul_golden.py"}
    save_safetensors(OUT, res, meta)
    print(f"{OUT}: {len(res)} tensors; loss_steps {[round(x, 6) for x in res['loss_steps'].tolist()]}")


if __name__ == "__main__":
    main()
