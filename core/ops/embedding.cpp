// Token + position embedding (llm.c's encoder) and a plain row gather.
#include "core/autograd.h"
#include "core/error.h"
#include "core/ops.h"
#include "core/parallel.h"

namespace lmul {

namespace {
// out (B,T,C) = wte[idx[b,t]] + wpe[t]; wpe may be null (plain gather).
void embedding_forward(float* out, const int32_t* idx, const float* wte, const float* wpe, int64_t BT, int64_t T,
                       int64_t C) {
#pragma omp parallel for schedule(static)
  for (int64_t bt = 0; bt < BT; ++bt) {
    const float* te = wte + static_cast<int64_t>(idx[bt]) * C;
    float* o = out + bt * C;
    if (wpe) {
      const float* pe = wpe + (bt % T) * C;
      for (int64_t c = 0; c < C; ++c) o[c] = te[c] + pe[c];
    } else {
      for (int64_t c = 0; c < C; ++c) o[c] = te[c];
    }
  }
}

// dwte[idx[b,t]] += dout[b,t], dwpe[t] += dout[b,t]. Split over channel slices: every element
// is accumulated by one thread in row order (deterministic, no atomics).
void embedding_backward(float* dwte, float* dwpe, const float* dout, const int32_t* idx, int64_t BT, int64_t T,
                        int64_t C) {
  parallel_slices(C, [&](int64_t c0, int64_t c1) {
    for (int64_t bt = 0; bt < BT; ++bt) {
      const float* d = dout + bt * C;
      if (dwte) {
        float* w = dwte + static_cast<int64_t>(idx[bt]) * C;
        for (int64_t c = c0; c < c1; ++c) w[c] += d[c];
      }
      if (dwpe) {
        float* p = dwpe + (bt % T) * C;
        for (int64_t c = c0; c < c1; ++c) p[c] += d[c];
      }
    }
  });
}

void check_ids(std::span<const int32_t> idx, int64_t V, const char* op) {
  for (int32_t i : idx)
    if (i < 0 || i >= V) throw Error("[{}] token id {} out of range [0, {})", op, i, V);
}
}  // namespace

Tensor embedding(const Tensor& wte, const Tensor& wpe, std::span<const int32_t> idx, int64_t B, int64_t T) {
  const int64_t C = wte.size(1), V = wte.size(0);
  if (wpe.size(1) != C || wpe.size(0) < T || static_cast<int64_t>(idx.size()) != B * T)
    throw Error("[embedding] wte {}, wpe {}, {} ids do not fit B={} T={}", shape_str(wte.shape()),
                shape_str(wpe.shape()), idx.size(), B, T);
  check_ids(idx, V, "embedding");
  Tensor out({B, T, C});
  embedding_forward(out.data(), idx.data(), wte.data(), wpe.data(), B * T, T, C);
  if (needs_grad({&wte, &wpe})) {
    std::vector<int32_t> ids(idx.begin(), idx.end());
    record(out, [out = out.shared(), wte, wpe, ids = std::move(ids), B, T, C] {
      float* dout = out->grad->data();
      embedding_backward(wte.requires_grad() ? wte.grad() : nullptr, wpe.requires_grad() ? wpe.grad() : nullptr, dout,
                         ids.data(), B * T, T, C);
    });
  }
  return out;
}

Tensor gather_rows(const Tensor& table, std::span<const int32_t> idx) {
  const int64_t C = table.size(1), N = static_cast<int64_t>(idx.size());
  check_ids(idx, table.size(0), "gather_rows");
  Tensor out({N, C});
  embedding_forward(out.data(), idx.data(), table.data(), nullptr, N, 1, C);
  if (needs_grad({&table})) {
    std::vector<int32_t> ids(idx.begin(), idx.end());
    record(out, [out = out.shared(), table, ids = std::move(ids), N, C] {
      embedding_backward(table.grad(), nullptr, out->grad->data(), ids.data(), N, 1, C);
    });
  }
  return out;
}

}  // namespace lmul
