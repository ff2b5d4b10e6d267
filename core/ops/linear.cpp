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

namespace {
// The integer forward: y = int8_linear() of the codes of x and w; where xq_out / wq_out are given,
// also Q(x) / Q(w) for the backward, each from the same pass over its operand as its codes
// (Multiplier::int8_codes_and_values).
void int8_forward(GemmSite& site, const float* x, const float* w, float* xq_out, float* wq_out, int64_t N, int64_t Cin,
                  int64_t Cout, float* y) {
  arith::Int8Codes xc, wc;
  site.forward->int8_codes_and_values(arith::Role::activation, x, N, Cin, Cin, xc, xq_out);
  site.forward->int8_codes_and_values(arith::Role::weight, w, Cout, Cin, Cin, wc, wq_out);
  try {
    arith::int8_linear(xc, wc, N, Cout, Cin, y, Cout);
  } catch (const Error& e) {  // an inner dimension too wide for int32 sums: name the site
    throw Error("{}: {}", site.name, e.what());
  }
}
}  // namespace

void linear_forward(GemmSite& site, const float* x, const float* w, const float* xq, const float* wq, int64_t N,
                    int64_t Cin, int64_t Cout, float* y) {
  if (site.forward->int8_forward()) {
    int8_forward(site, x, w, nullptr, nullptr, N, Cin, Cout, y);
    return;
  }
  site.forward->gemm({false, true, N, Cout, Cin, xq, Cin, wq, Cin, y, Cout, false});
}

void linear_backward(GemmSite& site, const float* dy, const float* xq, const float* wq, int64_t N, int64_t Cin,
                     int64_t Cout, float* dx, bool dx_accumulate, float* dw) {
  arith::Multiplier& m = *site.backward;
  Tensor dq({N, Cout});
  const float* dyq = m.quantize(arith::Role::gradient, dy, N, Cout, Cout, dq.data()) ? dq.data() : dy;
  // A backward spec of its own rounds both saved operands again (both, always: a stateful format's
  // history and a stochastic rounding's stream do not depend on which gradients are wanted).
  Tensor w2, x2;
  if (!site.backward_same) {
    w2 = Tensor({Cout, Cin});
    if (m.quantize(arith::Role::weight, wq, Cout, Cin, Cin, w2.data())) wq = w2.data();
    x2 = Tensor({N, Cin});
    if (m.quantize(arith::Role::activation, xq, N, Cin, Cin, x2.data())) xq = x2.data();
  }
  if (dx) m.gemm({false, false, N, Cin, Cout, dyq, Cout, wq, Cin, dx, Cin, dx_accumulate});
  if (dw) m.gemm({true, false, Cout, Cin, N, dyq, Cout, xq, Cin, dw, Cin, true});
}

void linear_bias_backward(const float* dy, int64_t N, int64_t Cout, float* db) { bias_backward(db, dy, N, Cout); }

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
    if (grad) {
      xq = Tensor(x.shape());
      wq = Tensor(w.shape());
    }
    int8_forward(site, x.data(), w.data(), grad ? xq.data() : nullptr, grad ? wq.data() : nullptr, N, Cin, Cout,
                 out.data());
  } else {
    xq = quantized(*site.forward, arith::Role::activation, x, N, Cin);
    try {
      wq = quantized(*site.forward, arith::Role::weight, w, Cout, Cin);
    } catch (const Error& e) {  // a format that cannot take this weight's shape (dgq's group size): name the site
      throw Error("{}: {}", site.name, e.what());
    }
    linear_forward(site, x.data(), w.data(), xq.data(), wq.data(), N, Cin, Cout, out.data());
  }
  if (b.defined()) {
    const float* pb = b.data();
    float* po = out.data();
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < N; ++i)
      for (int64_t j = 0; j < Cout; ++j) po[i * Cout + j] += pb[j];
  }

  if (grad) {
    record(out, [out = out.shared(), x, w, b, xq, wq, &site, N, Cin, Cout] {
      const float* d = out->grad->data();
      bool fresh = false;
      float* dx = x.requires_grad() ? x.grad_for_write(&fresh) : nullptr;
      linear_backward(site, d, xq.data(), wq.data(), N, Cin, Cout, dx, !fresh, w.requires_grad() ? w.grad() : nullptr);
      if (b.defined() && b.requires_grad()) bias_backward(b.grad(), d, N, Cout);
    });
  }
  return out;
}

}  // namespace lmul
