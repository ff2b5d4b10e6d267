"""lmul.torch: the autograd Functions against lmul's kernels and lmul's C++ training (through the
golden file tests/golden/gpt_tiny_lmul4.safetensors that tests/test_gpt_golden.cpp checks the C++
GPT against)."""
import os
import sys
import unittest

import numpy as np
import torch

import lmul
import lmul.torch

SOURCE = os.environ.get("LMUL_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(SOURCE, "scripts"))
sys.path.insert(0, os.path.join(SOURCE, "bench"))


def bits(t):
    a = t.detach().numpy() if isinstance(t, torch.Tensor) else t
    return np.ascontiguousarray(a, dtype=np.float32).view(np.uint32).tolist()


class LinearLayer(unittest.TestCase):
    def setUp(self):
        g = torch.Generator().manual_seed(0)
        self.x = torch.randn(3, 5, 24, generator=g)
        self.dy = torch.randn(3, 5, 16, generator=g)

    def test_is_nn_linear_with_lmul_products(self):
        torch.manual_seed(1)
        layer = lmul.torch.Linear(24, 16, arith="lmul:m=4")
        self.assertIsInstance(layer, torch.nn.Linear)
        self.assertEqual(list(layer.state_dict()), ["weight", "bias"])
        self.assertIn("lmul:m=4,variant=bits,round=rne", repr(layer))
        x = self.x.clone().requires_grad_()
        y = layer(x)
        w = layer.weight.detach().numpy()
        want = lmul.matmul(x.detach().numpy().reshape(15, 24), w, "lmul:m=4", trans_b=True) + layer.bias.detach().numpy()
        self.assertEqual(bits(y.reshape(15, 16)), bits(want))
        y.backward(self.dy)
        # Straight-through: dx = Q(dy)·Q(w), dw = Q(dy)ᵀ·Q(x), db = Σ dy, products as L-Mul forms them.
        site = lmul.Site("lmul:m=4")
        dyq = site.quantize(self.dy.numpy().reshape(15, 16), "gradient")
        xq, wq = site.quantize(x.detach().numpy().reshape(15, 24), "activation"), site.quantize(w, "weight")
        self.assertEqual(bits(x.grad.reshape(15, 24)), bits(site.gemm(dyq, wq)))
        self.assertEqual(bits(layer.weight.grad), bits(site.gemm(dyq, xq, trans_a=True)))
        self.assertLess((layer.bias.grad - self.dy.sum((0, 1))).abs().max().item(), 1e-5)

    def test_backward_exact_and_no_grad(self):
        torch.manual_seed(2)
        layer = lmul.torch.Linear(24, 16, bias=False, arith="fp8:e4m3,scale=current", backward="exact")
        x = self.x.clone().requires_grad_()
        layer(x).backward(self.dy)
        wq = lmul.quantize(layer.weight.detach().numpy(), "fp8:e4m3,scale=current", "weight")
        want = self.dy.reshape(15, 16).double() @ torch.from_numpy(wq).double()
        self.assertLess((x.grad.reshape(15, 24).double() - want).abs().max().item(), 1e-5)
        with torch.no_grad():
            self.assertEqual(bits(layer(self.x)), bits(layer(self.x)))
        exact = lmul.torch.Linear(24, 16, arith="exact")  # operands saved as they are: in-place use is caught
        x = self.x.clone().requires_grad_()
        y = exact(x)
        with torch.no_grad():
            exact.weight.add_(1)
        with self.assertRaises(RuntimeError):
            y.backward(self.dy)

    def test_integer_forward(self):
        torch.manual_seed(3)
        layer = lmul.torch.Linear(24, 16, arith="int:b=8,gemm=int")
        x = self.x.clone().requires_grad_()
        y = layer(x)
        want = lmul.matmul(self.x.numpy().reshape(15, 24), layer.weight.detach().numpy(), "int:b=8,gemm=int",
                           trans_b=True) + layer.bias.detach().numpy()
        self.assertEqual(bits(y.reshape(15, 16)), bits(want))
        y.backward(self.dy)
        self.assertEqual(tuple(x.grad.shape), (3, 5, 24))

    def test_bad_input(self):
        layer = lmul.torch.Linear(24, 16)
        with self.assertRaises(ValueError) as e:
            layer(self.x.double())
        self.assertIn("float32", str(e.exception))
        with self.assertRaises(ValueError) as e:
            layer(torch.zeros(2, 23))
        self.assertTrue(str(e.exception).startswith("lmul: error: linear: x with 23 features"), str(e.exception))
        with self.assertRaises(ValueError):
            lmul.torch.Linear(4, 4, arith="lmul:m=0")


class Matmul(unittest.TestCase):
    def test_forward_and_straight_through_backward(self):
        g = torch.Generator().manual_seed(4)
        a, b, dc = torch.randn(7, 9, generator=g), torch.randn(9, 5, generator=g), torch.randn(7, 5, generator=g)
        for arith, backward in [("lmul:m=4", "same"), ("bf16", "exact"), ("exact", "same")]:
            with self.subTest(arith=arith, backward=backward):
                ar, br = a.clone().requires_grad_(), b.clone().requires_grad_()
                c = lmul.torch.matmul(ar, br, arith=arith, backward=backward)
                self.assertEqual(bits(c), bits(lmul.matmul(a.numpy(), b.numpy(), arith, b_role="activation")))
                c.backward(dc)
                site = lmul.Site(arith, backward)
                aq, bq = site.quantize(a.numpy(), "activation"), site.quantize(b.numpy(), "activation")
                dcq = site.quantize(dc.numpy(), "gradient", backward=True)
                a2 = aq if site.backward_same else site.quantize(aq, "activation", backward=True)
                b2 = bq if site.backward_same else site.quantize(bq, "activation", backward=True)
                self.assertEqual(bits(ar.grad), bits(site.gemm(dcq, b2, trans_b=True, backward=True)))
                self.assertEqual(bits(br.grad), bits(site.gemm(a2, dcq, trans_a=True, backward=True)))
        ar, br = a.clone().requires_grad_(), b.clone().requires_grad_()
        (lmul.torch.matmul(ar, br, arith="exact") * dc).sum().backward()
        self.assertLess((ar.grad - dc @ b.T).abs().max().item(), 1e-5)


class Emulation(unittest.TestCase):
    def test_pure_torch_lmul_gives_lmuls_products(self):
        from lmul_torch_emulation import lmul_linear  # bench/: L-Mul by bit manipulation on tensors
        g = torch.Generator().manual_seed(5)
        x, w = torch.randn(64, 1, generator=g) * 3, torch.randn(48, 1, generator=g) * 3
        x[::7] = 0
        x[3] = float("inf")
        want = lmul.matmul(x.numpy(), w.numpy(), "lmul:m=4", trans_b=True)  # K = 1: single products
        self.assertEqual(bits(lmul_linear(x, w, m=4)), bits(want))
        x, w = torch.randn(32, 40, generator=g), torch.randn(24, 40, generator=g)
        want = torch.from_numpy(lmul.matmul(x.numpy(), w.numpy(), "lmul:m=4", trans_b=True))
        self.assertLess((lmul_linear(x, w, m=4) - want).abs().max().item(), 1e-4)  # fp32 sums, another order


class NanoGPT(unittest.TestCase):
    """nanoGPT's tiny model trained with lmul.torch.Linear (lmul:m=4) = the golden file, whose GEMMs and
    losses tests/test_gpt_golden.cpp matches with lmul's C++ GPT."""

    def test_training_matches_the_golden_run(self):
        import make_lmul_golden as mg
        from gpt_reference import load_safetensors
        golden, meta = load_safetensors(mg.OUT)
        threads = torch.get_num_threads()
        torch.set_num_threads(1)  # as the golden run
        try:
            res = mg.train(meta["arith"], int(meta["steps"]))
        finally:
            torch.set_num_threads(threads)
        # Every Linear's GEMMs, bit for bit, wherever the site's inputs (x, and dy from the layers
        # above) are the golden ones. Those come out of PyTorch's own attention and layer norm;
        # where OpenBLAS runs other kernels than when the file was made (OPENBLAS_CORETYPE), they
        # differ in the last bits, and so may every result after them: there, the results are
        # compared as numbers (L-Mul rounds its operands to 4 mantissa bits, so one flipped input
        # bit can move a product by 2^-5 of itself).
        bitwise = sites = 0
        for k, v in golden.items():
            if k.startswith("site."):
                sites += 1
                site = k.rsplit(".", 1)[0]
                if all(bits(res[site + i]) == bits(golden[site + i]) for i in (".x", ".dy")):
                    self.assertEqual(bits(res[k]), bits(v), k)
                    bitwise += 1
                else:
                    rel = ((res[k] - v).abs().mean() / v.abs().mean().clamp_min(1e-30)).item()
                    self.assertLess(rel, 1e-3, k)
        self.assertGreater(bitwise, 0)
        rel = ((res["loss_steps"] - golden["loss_steps"]).abs() / golden["loss_steps"]).max().item()
        self.assertLessEqual(rel, 1e-6 if bitwise == sites else 1e-5)
        # The weights after the steps: each as the golden run's to 1e-5; or, where the inputs of some
        # GEMMs differed in their last bits (above), on average to 1 % of one step's lr (10^-2): Adam's
        # m/sqrt(v) turns a last-bit change of a near-zero gradient into a change of its whole update.
        for k, v in golden.items():
            if k.startswith("step"):
                if bitwise == sites:
                    self.assertLess((res[k] - v).abs().max().item(), 1e-5, k)
                else:
                    self.assertLess((res[k] - v).abs().mean().item(), 1e-4, k)
        exact, _ = load_safetensors(os.path.join(SOURCE, "tests", "golden", meta["source"]))
        self.assertGreater(abs(golden["loss_steps"][2] - exact["loss_steps"][2]).item(), 1e-3)

    def test_one_line_swap(self):
        from gpt_reference import GPT, GPTConfig
        torch.manual_seed(0)
        cfg = GPTConfig(block_size=8, vocab_size=17, n_layer=1, n_head=2, n_embd=16, dropout=0.0, bias=False)
        model = GPT(cfg)
        ref = GPT(cfg)
        ref.load_state_dict(model.state_dict())
        mlp = model.transformer.h[0].mlp
        mlp.c_fc = lmul.torch.Linear(16, 64, bias=False, arith="exact")
        mlp.c_fc.weight = ref.transformer.h[0].mlp.c_fc.weight
        idx = torch.randint(0, 17, (2, 8), generator=torch.Generator().manual_seed(1))
        _, loss = model(idx, idx)
        _, want = ref(idx, idx)
        self.assertAlmostEqual(loss.item(), want.item(), places=5)


class Readme(unittest.TestCase):
    def test_example_runs(self):
        import contextlib
        import io
        import re
        with open(os.path.join(SOURCE, "README.md")) as f:
            text = f.read()
        section = text[text.index("## From Python / PyTorch"):]
        code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
        self.assertLessEqual(len(code.strip().splitlines()), 10)
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(code, "README.md", "exec"), {})
        self.assertIn("lmul:m=4,variant=bits,round=rne", out.getvalue())
        self.assertIn("weight grad (3, 8)", out.getvalue())


if __name__ == "__main__":
    unittest.main()
