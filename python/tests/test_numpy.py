"""lmul's Python module against the lmul CLI: the same bits on the same inputs."""
import threading
import time
import unittest

import numpy as np

import cli
import lmul

# Formats with no scale (a product depends on its two operands only) and every other kind.
SCALE_FREE = ["exact", "lmul:m=4", "lmul:m=3", "lmul:m=4,round=trunc", "lmul:m=3,variant=formula", "bf16", "fp16",
              "float:e=4,m=3", "fp8:e4m3,scale=none", "fp8:e5m2,scale=none"]
SCALED = ["fp8:e4m3", "fp8:e4m3,scale=current", "pot:b=4", "int:b=8", "int:b=4,gran=channel", "ternary",
          "int:b=8,gemm=int"]


def bits(a):
    return np.ascontiguousarray(a, dtype=np.float32).view(np.uint32)


def sample(n, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(n).astype(np.float32) * np.float32(3)
    x[::17] = 0  # zeros: L-Mul's zero masks
    x[5] = -x[5]
    return x


class Formats(unittest.TestCase):
    def test_table_is_the_cli_list(self):
        rc, out, _ = cli.run(["numerics", "--list"])
        self.assertEqual(rc, 0)
        lines = []
        for f in lmul.formats():
            export = f"; lmul export --format {f['export']}" if f["export"] else ""
            lines.append(f"{f['name']:8}  {f['help']} (e.g. {f['example']}{export})")
        self.assertEqual(out.splitlines()[:len(lines)], lines)
        self.assertIn("lmul", [f["name"] for f in lmul.formats()])
        for f in lmul.formats():  # every example spec is a working spec
            self.assertTrue(lmul.canonical_spec(f["example"]))
        self.assertEqual(lmul.canonical_spec("bf16"), "float:e=8,m=7,round=nearest")


class Quantize(unittest.TestCase):
    def test_bit_identical_to_cli(self):
        x = sample(300, 1)
        roles = ["weight", "activation", "gradient"]
        cases = [(spec, roles[i % 3]) for i, spec in enumerate(SCALE_FREE + SCALED)]
        cases += [("fp8:hybrid,scale=current", "gradient"), ("int:w=4,a=8", "activation"), ("ternary", "weight")]
        for spec, role in cases:  # one CLI run each (~0.1-0.3 s)
            with self.subTest(spec=spec, role=role):
                rc, out, err = cli.run(["numerics", "quantize", "--format", spec, "--role", role], cli.numbers(x))
                self.assertEqual(rc, 0, err)
                want = cli.floats(out)
                self.assertEqual(bits(lmul.quantize(x, spec, role)).tolist(), bits(want).tolist())
                self.assertEqual(bits(lmul.numerics.quantize(x, spec, role)).tolist(), bits(want).tolist())

    def test_rows_are_channels_and_layout_is_free(self):
        w = sample(8 * 24, 2).reshape(8, 24)
        q = lmul.quantize(w, "int:b=4,gran=channel")
        for i in range(8):  # each row quantised on its own = a 1-D call on that row
            self.assertEqual(bits(q[i]).tolist(), bits(lmul.quantize(w[i].copy(), "int:b=4,gran=channel")).tolist())
        wide = np.zeros((8, 40), np.float32)
        wide[:, 3:27] = w
        view = wide[:, 3:27]  # rows in place (a column slice)
        fortran = np.asfortranarray(w)  # copied into C order
        raw = bytearray(w.nbytes + 1)
        unaligned = np.frombuffer(raw, np.float32, count=w.size, offset=1).reshape(8, 24)  # copied
        raw[1:] = w.tobytes()
        self.assertFalse(unaligned.flags.aligned)
        for a in (view, fortran, w.reshape(2, 4, 24), unaligned):
            self.assertEqual(bits(lmul.quantize(a, "int:b=4,gran=channel")).reshape(8, 24).tolist(), bits(q).tolist())


class Matmul(unittest.TestCase):
    def test_outer_products_are_the_cli_products(self):
        # K = 1: every C[i, j] is one product, as `lmul numerics mul` forms it.
        x, y = sample(40, 3), sample(40, 4)
        for spec in SCALE_FREE:
            with self.subTest(spec=spec):
                rc, out, err = cli.run(["numerics", "mul", "--mul", spec],
                                       "".join(f"{a:.9g} {b:.9g}\n" for a, b in zip(x, y)))
                self.assertEqual(rc, 0, err)
                want = cli.floats(out)
                c = lmul.matmul(x.reshape(-1, 1), y.reshape(-1, 1), spec, trans_b=True)  # x·yᵀ
                self.assertEqual(bits(np.diag(c)).tolist(), bits(want).tolist())
                self.assertEqual(bits(lmul.numerics.mul(x, y, spec)).tolist(), bits(want).tolist())

    def test_transposes_and_layouts_agree(self):
        # Elementwise rounding makes the operands layout-free. lmul's own L-Mul bits kernel then sums
        # in one order whatever the layout: bit for bit. The others end in cblas_sgemm, whose
        # transposed and plain paths may round differently where OpenBLAS picks another kernel
        # (OPENBLAS_CORETYPE=SkylakeX or Cooperlake): there, the sums' own fp32 error.
        a, b = sample(33 * 70, 5).reshape(33, 70), sample(70 * 21, 6).reshape(70, 21)
        mag = np.abs(a).astype(np.float64) @ np.abs(b)
        for spec in ["lmul:m=4", "lmul:m=3,variant=formula", "bf16"]:
            with self.subTest(spec=spec):
                c = lmul.matmul(a, b, spec)
                self.assertEqual(c.shape, (33, 21))
                for other in (lmul.matmul(np.asfortranarray(a), b, spec),
                              lmul.matmul(a.T.copy(), b, spec, trans_a=True),
                              lmul.matmul(a, b.T.copy(), spec, trans_b=True),
                              lmul.matmul(a.T.copy(), b.T, spec, trans_a=True, trans_b=True)):
                    if spec == "lmul:m=4":
                        self.assertEqual(bits(other).tolist(), bits(c).tolist())
                    else:
                        self.assertLessEqual((np.abs(other - c) / mag).max(), 4 * 70 * 2.0**-24)  # 2·γ(2K)
        exact = lmul.matmul(a, b, "exact")
        self.assertLess(np.abs(exact - a.astype(np.float64) @ b).max(), 1e-4)
        lm = lmul.matmul(a, b, "lmul:m=4")
        self.assertLess(np.abs(lm - exact).max() / np.abs(exact).max(), 0.1)  # close, not equal
        self.assertGreater(np.abs(lm - exact).max(), 0)

    def test_integer_forward_is_the_linear_site(self):
        x, w = sample(16 * 32, 7).reshape(16, 32), sample(8 * 32, 8).reshape(8, 32)
        site = lmul.Site("int:b=8,gemm=int")
        self.assertTrue(site.int8_forward)
        y, xq, wq = site.linear_forward(x, w)
        self.assertEqual(bits(lmul.matmul(x, w, "int:b=8,gemm=int", trans_b=True)).tolist(), bits(y).tolist())
        self.assertLess(np.abs(y - x @ w.T).max() / np.abs(x @ w.T).max(), 0.05)


class Numerics(unittest.TestCase):
    def test_error_table_is_the_cli_output(self):
        specs = ["lmul:m=4", "lmul:m=3", "fp8:e4m3,scale=none", "int:b=8,gemm=int"]
        for rp in (False, True):
            args = ["numerics", "error", "--n", "3000", "--seed", "5"] + (["--round-product"] if rp else [])
            for s in specs:
                args += ["--mul", s]
            rc, out, err = cli.run(args)
            self.assertEqual(rc, 0, err)
            self.assertEqual(lmul.numerics.error_table(specs, n=3000, seed=5, round_product=rp), out)
            rows = lmul.numerics.error(specs, n=3000, seed=5, round_product=rp)
            for r, line in zip(rows, out.splitlines()[1:]):
                self.assertTrue(line.startswith(r["spec"]))
                self.assertIn(f"{100 * r['mean']:.3f}%", line)
                self.assertIn(f"{100 * r['max']:.3f}%", line)
        self.assertAlmostEqual(lmul.numerics.error("lmul:m=4", n=20000)[0]["mean"], 0.053, delta=0.005)


class Errors(unittest.TestCase):
    def test_cli_message_as_value_error(self):
        for spec in ["lmul:m=99", "nosuch", "fp8:e4m3,scale=bogus"]:
            with self.subTest(spec=spec):
                rc, _, err = cli.run(["numerics", "quantize", "--format", spec], "1\n")
                self.assertEqual(rc, 2)
                with self.assertRaises(ValueError) as e:
                    lmul.quantize(np.ones(1, np.float32), spec)
                self.assertEqual(str(e.exception), err.strip())

    def test_bad_arrays(self):
        for call, text in [
            (lambda: lmul.quantize(np.ones(3), "bf16"), "dtype float64 is not float32"),
            (lambda: lmul.matmul(np.ones((2, 3), np.float32), np.ones((2, 3), np.float32), "exact"),
             "inner dimensions differ"),
            (lambda: lmul.matmul(np.ones(3, np.float32), np.ones((3, 1), np.float32), "exact"), "2-D"),
            (lambda: lmul.quantize(np.ones(3, np.float32), "bf16", role="bias"), "role 'bias'"),
            (lambda: lmul.numerics.error("lmul:m=4", n=0), "at least 1"),
            (lambda: lmul.set_num_threads(0), "at least 1"),
            (lambda: lmul.quantize(np.float32(1), "bf16"), "0-dimensional"),
            (lambda: lmul.Site("lmul:m=4").linear_forward(np.ones((2, 5), np.float32), np.ones((3, 4), np.float32)),
             "5 features does not fit weight 3x4"),
        ]:
            with self.assertRaises(ValueError) as e:
                call()
            self.assertTrue(str(e.exception).startswith("lmul: error: "), str(e.exception))
            self.assertIn(text, str(e.exception))


class State(unittest.TestCase):
    def test_delayed_scaling_history_lives_in_the_site(self):
        spec = "fp8:e4m3,scale=delayed,history=4"
        small, big = sample(64, 9) * np.float32(0.01), sample(64, 10) * np.float32(100)
        site = lmul.Site(spec)
        first = site.quantize(big, "activation")
        self.assertEqual(bits(first).tolist(), bits(lmul.quantize(big, spec, "activation")).tolist())
        second = site.quantize(small, "activation")  # scaled by big's amax from the history
        self.assertNotEqual(bits(second).tolist(), bits(lmul.quantize(small, spec, "activation")).tolist())
        saved = site.state()
        self.assertGreater(len(saved[0]), 0)
        copy = lmul.Site(spec)
        copy.set_state(*saved)
        self.assertEqual(bits(copy.quantize(small, "activation")).tolist(),
                         bits(site.quantize(small, "activation")).tolist())
        self.assertEqual(site.spec, lmul.canonical_spec(spec))


class Threads(unittest.TestCase):
    def test_gil_released_during_kernels(self):
        # One kernel call of about 0.4 s on a worker thread (lmul on 1 thread) while this thread counts
        # loop iterations. With the GIL held it would get a turn only when the interpreter hands the GIL
        # over (measured: under 0.2 % of its free-running rate); released, it runs as free as the
        # machine lets it.
        def spin(seconds):
            end, count = time.perf_counter() + seconds, 0
            while time.perf_counter() < end:
                count += 1
            return count / seconds

        n = 256
        a = sample(n * n, 11).reshape(n, n)
        threads = lmul.get_num_threads()
        lmul.set_num_threads(1)
        try:
            start = time.perf_counter()
            lmul.matmul(a, a, "lmul:m=4")
            once = time.perf_counter() - start
            n = min(2048, int(n * max(1.0, 0.4 / max(once, 1e-4)) ** (1 / 3)))
            a = sample(n * n, 11).reshape(n, n)
            free_rate = spin(0.1)
            span = {}

            def work():
                span["start"] = time.perf_counter()
                lmul.matmul(a, a, "lmul:m=4")
                span["end"] = time.perf_counter()

            t = threading.Thread(target=work)
            t.start()
            count = 0
            while t.is_alive():
                count += 1
                time.perf_counter()
            t.join()
        finally:
            lmul.set_num_threads(threads)
        rate = count / (span["end"] - span["start"])
        self.assertGreater(rate, 0.05 * free_rate, f"{rate:.0f} iterations/s during the kernel, {free_rate:.0f} alone")

    def test_threads_give_the_same_bits(self):
        a = sample(64 * 96, 12).reshape(64, 96)
        n = lmul.get_num_threads()
        try:
            lmul.set_num_threads(1)
            one = lmul.matmul(a, a.T, "lmul:m=4", trans_b=False)
            lmul.set_num_threads(2)
            two = lmul.matmul(a, a.T, "lmul:m=4", trans_b=False)
        finally:
            lmul.set_num_threads(n)
        self.assertEqual(bits(one).tolist(), bits(two).tolist())


if __name__ == "__main__":
    unittest.main()
