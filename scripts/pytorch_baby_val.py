"""nanoGPT's CPU baby GPT trained in PyTorch (scripts/gpt_reference.py) on lmul's prepared data, as
nanoGPT's train.py does it: 2000 iterations, warmup + cosine, AdamW (β2 0.99, wd 0.1), clip 1.0,
estimate_loss with eval_iters=20 at iteration 2000. Prints the final train/val loss per seed, to
compare with lmul's baby-config val loss (the foundation issue's 1.90 bar).

  OMP_WAIT_POLICY=passive /usr/bin/python3 scripts/pytorch_baby_val.py --data datasets/shakespeare_char --seeds 1337 1
"""
import argparse
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gpt_reference import GPT, GPTConfig, get_lr  # noqa: E402


def run(data, seed, threads, iters=2000, B=12, T=64):
    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    train = np.memmap(os.path.join(data, "train.bin"), dtype=np.uint16, mode="r")
    val = np.memmap(os.path.join(data, "val.bin"), dtype=np.uint16, mode="r")

    def get_batch(d):
        ix = torch.randint(len(d) - T, (B,))
        x = torch.stack([torch.from_numpy(d[i:i + T].astype(np.int64)) for i in ix])
        y = torch.stack([torch.from_numpy(d[i + 1:i + 1 + T].astype(np.int64)) for i in ix])
        return x, y

    model = GPT(GPTConfig(block_size=T, vocab_size=65, n_layer=4, n_head=4, n_embd=128, dropout=0.0, bias=False))
    opt = model.configure_optimizers(0.1, 1e-3, (0.9, 0.99), "cpu")
    for it in range(iters):
        for g in opt.param_groups:
            g["lr"] = get_lr(it, 1e-3, 100, iters, 1e-4)
        x, y = get_batch(train)
        _, loss = model(x, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
    model.eval()
    out = {}
    with torch.no_grad():
        for name, d in (("train", train), ("val", val)):
            out[name] = float(np.mean([model(*get_batch(d))[1].item() for _ in range(20)]))
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True)
    p.add_argument("--seeds", type=int, nargs="+", default=[1337])
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    for s in a.seeds:
        r = run(a.data, s, a.threads)
        print("seed %d: train loss %.4f, val loss %.4f (torch %s)" % (s, r["train"], r["val"], torch.__version__), flush=True)


if __name__ == "__main__":
    main()
