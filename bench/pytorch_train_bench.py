"""PyTorch half of lmul's side-by-side training-speed benchmark.

Trains the reference nanoGPT (scripts/gpt_reference.py) on CPU exactly the way nanoGPT's
train.py does (random (B, T) windows of a uint16 train.bin, AdamW, grad clip), and prints ONE
JSON line:
  {"impl": "pytorch", "torch": ..., "threads": ..., "config": {...},
   "ms_per_step_median": ..., "ms_per_step_all": [...], "ms_per_warmup_step": [...],
   "tokens_per_s": ..., "gflops": ...}
A "step" is one full training iteration: get_batch + forward + backward + clip + AdamW step +
zero_grad. tokens_per_s = batch_size * block_size / median step time. gflops uses nanoGPT's
estimate_mfu count, (6N + 12*L*H*Q*T) flops per token with N = parameters excluding wpe,
times tokens_per_s.

Example (run with a passive OpenMP wait policy so idle threads do not spin):
  OMP_WAIT_POLICY=passive /usr/bin/python3 bench/pytorch_train_bench.py --data data/shakespeare_char \
      --n-layer 4 --n-head 4 --n-embd 128 --block-size 64 --batch-size 12 --vocab-size 65 \
      --steps 50 --warmup 5 --threads 2
"""

import argparse
import json
import os
import statistics
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts"))
from gpt_reference import GPT, GPTConfig  # noqa: E402


def str2bool(s):
    if s.lower() in ("1", "true", "yes", "on"):
        return True
    if s.lower() in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError("expected true/false, got %r" % s)


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True, help="prepared dir holding train.bin (uint16 token ids)")
    p.add_argument("--n-layer", type=int, default=4)
    p.add_argument("--n-head", type=int, default=4)
    p.add_argument("--n-embd", type=int, default=128)
    p.add_argument("--block-size", type=int, default=64)
    p.add_argument("--batch-size", type=int, default=12)
    p.add_argument("--vocab-size", type=int, default=65)
    p.add_argument("--dropout", type=float, default=0.0)
    p.add_argument("--bias", type=str2bool, default=False, help="true/false (nanoGPT default false)")
    p.add_argument("--steps", type=int, default=20, help="timed steps")
    p.add_argument("--warmup", type=int, default=3, help="untimed steps before timing")
    p.add_argument("--threads", type=int, default=2)
    # optimizer: lr 1e-3 as nanoGPT's shakespeare_char config, which also sets beta2 0.99;
    # weight decay 0.1, beta1 0.9 and grad clip 1.0 are nanoGPT train.py defaults.
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--weight-decay", type=float, default=0.1)
    p.add_argument("--beta1", type=float, default=0.9)
    p.add_argument("--beta2", type=float, default=0.99)
    p.add_argument("--grad-clip", type=float, default=1.0)
    p.add_argument("--seed", type=int, default=1337)
    return p.parse_args()


def main():
    args = parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    cfg = GPTConfig(block_size=args.block_size, vocab_size=args.vocab_size, n_layer=args.n_layer,
                    n_head=args.n_head, n_embd=args.n_embd, dropout=args.dropout, bias=args.bias)
    model = GPT(cfg)
    model.train()
    optimizer = model.configure_optimizers(args.weight_decay, args.lr, (args.beta1, args.beta2), "cpu")

    data_path = os.path.join(args.data, "train.bin")

    def get_batch():
        # as nanoGPT train.py: re-open the memmap every batch (avoids a memory leak there),
        # random window offsets, int64 ids, targets shifted by one
        data = np.memmap(data_path, dtype=np.uint16, mode="r")
        ix = torch.randint(len(data) - args.block_size, (args.batch_size,))
        x = torch.stack([torch.from_numpy((data[i:i + args.block_size]).astype(np.int64)) for i in ix])
        y = torch.stack([torch.from_numpy((data[i + 1:i + 1 + args.block_size]).astype(np.int64)) for i in ix])
        return x, y

    def step():
        X, Y = get_batch()
        _, loss = model(X, Y)
        loss.backward()
        if args.grad_clip != 0.0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), args.grad_clip)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        return loss.item()  # .item() also forces completion of all work in this step

    warmup_ms = []
    for _ in range(args.warmup):
        t0 = time.perf_counter()
        step()
        warmup_ms.append((time.perf_counter() - t0) * 1e3)
    times_ms = []
    loss = float("nan")
    for _ in range(args.steps):
        t0 = time.perf_counter()
        loss = step()
        times_ms.append((time.perf_counter() - t0) * 1e3)

    median_ms = statistics.median(times_ms)
    tokens_per_step = args.batch_size * args.block_size
    tokens_per_s = tokens_per_step / (median_ms / 1e3)
    flops_per_token = model.estimate_flops_per_token()
    out = {
        "impl": "pytorch",
        "torch": torch.__version__,
        "threads": args.threads,
        "config": {
            "n_layer": args.n_layer, "n_head": args.n_head, "n_embd": args.n_embd,
            "block_size": args.block_size, "batch_size": args.batch_size, "vocab_size": args.vocab_size,
            "dropout": args.dropout, "bias": args.bias, "steps": args.steps, "warmup": args.warmup,
            "lr": args.lr, "weight_decay": args.weight_decay, "beta1": args.beta1, "beta2": args.beta2,
            "grad_clip": args.grad_clip,
            "n_params": model.get_num_params(non_embedding=False),
            "n_params_non_embedding": model.get_num_params(),
        },
        "ms_per_step_median": round(median_ms, 3),
        "ms_per_step_all": [round(t, 3) for t in times_ms],
        "ms_per_warmup_step": [round(t, 3) for t in warmup_ms],
        "tokens_per_s": round(tokens_per_s, 1),
        "flops_per_token": flops_per_token,
        "gflops": round(flops_per_token * tokens_per_s / 1e9, 3),
        "final_loss": round(loss, 4),
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", ""),
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
