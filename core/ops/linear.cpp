// nn.Linear's product through the arithmetic seam: y = Q(x)·Q(w)ᵀ + b.
// Quantisers are straight-through: dx = Q'(dy)·Q(w), dw = Q'(dy)ᵀ·Q(x), where Q is the forward
// arithmetic's rounding and Q' the backward arithmetic's rounding of the gradient.
// With an integer forward (`gemm=int`, Multiplier::int8_forward) y is int8_linear() of the int8 codes
// of x and w; Q(x) and Q(w) are still formed for the backward when a gradient is needed, in the same
// pass over each operand as its codes (Multiplier::int8_codes_and_values).
#include "core/arith/int8_linear.h"
#include "core/autograd.h"
#include "core/error.h"
#include "core/ops.h"
#include "core/parallel.h"

namespace lmul {

namespace {
// A quantised copy of x (rows×cols) under m, or x itself when m multiplies fp32 values as they are.
Tensor quantized(arith::Multiplier& m, arith::Role role, const Tensor& x, int64_t rows, int64_t cols) {
  Tensor q(x.shape());
  if (m.quantize(role, x.data(), rows, cols, cols, q.data())) return q;
  return x;
}

// db[j] += Σ_i dy[i,j] over N rows; channel slices per thread (deterministic).
void bias_backward(float* db, const float* dy, int64_t N, int64_t Cout) {
  parallel_slices(Cout, [&](int64_t c0, int64_t c1) {
    for (int64_t i = 0; i < N; ++i)
      for (int64_t j = c0; j < c1; ++j) db[j] += dy[i * Cout + j];
  });
}
}  // namespace

Tensor linear(const Tensor& x, const Tensor& w, const Tensor& b, GemmSite& site) {
  const int64_t Cin = x.size(-1), Cout = w.size(0), N = x.numel() / Cin;
  if (w.dim() != 2 || w.size(1) != Cin || (b.defined() && (b.dim() != 1 || b.size(0) != Cout)))
    throw Error("[linear] x {} does not fit weight {} and bias {}", shape_str(x.shape()), shape_str(w.shape()),
                b.defined() ? shape_str(b.shape()) : "none");
  Shape out_shape = x.shape();
  out_shape.back() = Cout;
  Tensor out(out_shape);

  const bool int_forward = site.forward->int8_forward();
  const bool grad = needs_grad({&x, &w, &b});
  Tensor xq, wq;
  if (int_forward) {
    // The codes for the forward and, when a gradient is needed, Q(x) and Q(w) for the backward,
    // each operand in one pass.
    arith::Int8Codes xc, wc;
    if (grad) {
      xq = Tensor(x.shape());
      wq = Tensor(w.shape());
    }
    site.forward->int8_codes_and_values(arith::Role::activation, x.data(), N, Cin, Cin, xc, grad ? xq.data() : nullptr);
    site.forward->int8_codes_and_values(arith::Role::weight, w.data(), Cout, Cin, Cin, wc, grad ? wq.data() : nullptr);
    try {
      arith::int8_linear(xc, wc, N, Cout, Cin, out.data(), Cout);
    } catch (const Error& e) {  // an inner dimension too wide for int32 sums: name the site
      throw Error("{}: {}", site.name, e.what());
    }
  } else {
    xq = quantized(*site.forward, arith::Role::activation, x, N, Cin);
    try {
      wq = quantized(*site.forward, arith::Role::weight, w, Cout, Cin);
    } catch (const Error& e) {  // a format that cannot take this weight's shape (dgq's group size): name the site
      throw Error("{}: {}", site.name, e.what());
    }
  }
  if (!int_forward)
    site.forward->gemm({false, true, N, Cout, Cin, xq.data(), Cin, wq.data(), Cin, out.data(), Cout, false});
  if (b.defined()) {
    const float* pb = b.data();
    float* po = out.data();
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < N; ++i)
      for (int64_t j = 0; j < Cout; ++j) po[i * Cout + j] += pb[j];
  }

  if (grad) {
    record(out, [out = out.shared(), x, w, b, xq, wq, &site, N, Cin, Cout] {
      arith::Multiplier& m = *site.backward;
      const float* d = out->grad->data();
      Tensor dq({N, Cout});
      const float* dyq = m.quantize(arith::Role::gradient, d, N, Cout, Cout, dq.data()) ? dq.data() : d;
      Tensor w2 = site.backward_same ? wq : quantized(m, arith::Role::weight, wq, Cout, Cin);
      Tensor x2 = site.backward_same ? xq : quantized(m, arith::Role::activation, xq, N, Cin);
      if (x.requires_grad()) {
        bool fresh = false;
        float* dx = x.grad_for_write(&fresh);
        m.gemm({false, false, N, Cin, Cout, dyq, Cout, w2.data(), Cin, dx, Cin, !fresh});
      }
      if (w.requires_grad()) m.gemm({true, false, Cout, Cin, N, dyq, Cout, x2.data(), Cin, w.grad(), Cin, true});
      if (b.defined() && b.requires_grad()) bias_backward(b.grad(), d, N, Cout);
    });
  }
  return out;
}

}  // namespace lmul
