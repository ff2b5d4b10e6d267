#!/usr/bin/python3
"""Interop check: an lmul checkpoint evaluated by the PyTorch reference GPT (nanoGPT's model.py in
scripts/gpt_reference.py) on the very batches `lmul eval` used must give the same loss.

    /usr/bin/python3 scripts/interop_eval.py RUN_DIR|CKPT [--lmul build/apps/lmul] [--split val]
                                             [--iters N] [--batch-size B] [--tolerance 1e-4]

Runs `lmul eval ... --json --dump-batches FILE`, loads the checkpoint's weights (F32 tensors under
nanoGPT's state_dict names; optim.* and arith_state.* skipped; lm_head.weight is tied to
transformer.wte.weight) into the reference model built from the config in the checkpoint's
metadata, evaluates the dumped (x, y) batches in float32 with dropout off, and compares the mean
loss. Exit 0 if the relative difference is within the tolerance, 1 if not, 2 on bad input (for
instance a non-exact arithmetic, which the float reference does not model).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch  # noqa: E402
from torch import nn  # noqa: E402

from gpt_reference import GPT, GPTConfig, load_safetensors  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("target", help="run directory or checkpoint file")
    ap.add_argument("--lmul", default=os.path.join(os.path.dirname(__file__), "..", "build", "apps", "lmul"))
    ap.add_argument("--split", default="val", choices=["val", "train"])
    ap.add_argument("--iters", type=int)
    ap.add_argument("--batch-size", type=int)
    ap.add_argument("--tolerance", type=float, default=1e-4, help="relative")
    a = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        dump = os.path.join(tmp, "batches.safetensors")
        cmd = [a.lmul, "eval", a.target, "--json", "--split", a.split, "--dump-batches", dump]
        if a.iters:
            cmd += ["--iters", str(a.iters)]
        if a.batch_size:
            cmd += ["--batch-size", str(a.batch_size)]
        p = subprocess.run(cmd, capture_output=True, text=True)
        if p.returncode != 0:
            print(f"interop_eval: {' '.join(cmd)} failed:\n{p.stderr.strip()}", file=sys.stderr)
            return 2
        res = json.loads(p.stdout)
        batches, _ = load_safetensors(dump)

    tensors, meta = load_safetensors(res["checkpoint"])
    cfg = json.loads(meta["config"])
    arith = json.loads(meta.get("arith", "{}"))
    if any(v not in ("exact", "same") for v in arith.values()):
        print(f"interop_eval: arithmetic {arith} is not exact fp32; the float reference cannot match it",
              file=sys.stderr)
        return 2
    model = GPT(GPTConfig(block_size=cfg["block_size"], vocab_size=cfg["vocab_size"], n_layer=cfg["n_layer"],
                          n_head=cfg["n_head"], n_embd=cfg["n_embd"], dropout=0.0, bias=cfg["bias"]))
    if cfg.get("gelu", "exact") == "tanh":
        for block in model.transformer.h:
            block.mlp.gelu = nn.GELU(approximate="tanh")
    state = {k: v for k, v in tensors.items() if not k.startswith(("optim.", "arith_state."))}
    missing, unexpected = model.load_state_dict(state, strict=False)
    if set(missing) != {"lm_head.weight"} or unexpected:
        print(f"interop_eval: state_dict mismatch: missing {missing}, unexpected {unexpected}", file=sys.stderr)
        return 2
    model.eval()
    x, y = batches["x"].long(), batches["y"].long()
    with torch.no_grad():
        losses = [model(x[i], y[i])[1].item() for i in range(x.shape[0])]
    torch_loss = sum(losses) / len(losses)
    lmul_loss = res["loss"]
    rel = abs(torch_loss - lmul_loss) / abs(lmul_loss)
    ok = rel <= a.tolerance
    print(f"checkpoint {res['checkpoint']} (step {res['step']}), {res['split']} split, {x.shape[0]} batches of "
          f"{x.shape[1]}x{x.shape[2]}")
    print(f"lmul eval   loss {lmul_loss:.8f}")
    print(f"PyTorch ref loss {torch_loss:.8f}  (torch {torch.__version__})")
    print(f"relative difference {rel:.3e}: {'OK' if ok else 'MISMATCH'} (tolerance {a.tolerance:g})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
