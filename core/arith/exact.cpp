// exact: the fp32 GEMM through OpenBLAS, and the shared sgemm every quantise-then-GEMM format uses.
#include <cblas.h>
#include <omp.h>

#include "core/arith/arith.h"
#include "core/arith/spec.h"

namespace lmul::arith {

void sgemm(const Gemm& g) {
  if (g.M == 0 || g.N == 0) return;
  if (g.K == 0) {  // BLAS would reject lda = 0; C = 0 (or stays C when accumulating)
    if (!g.accumulate)
      for (int64_t i = 0; i < g.M; ++i)
        for (int64_t j = 0; j < g.N; ++j) g.C[i * g.ldc + j] = 0.0f;
    return;
  }
  cblas_sgemm(CblasRowMajor, g.ta ? CblasTrans : CblasNoTrans, g.tb ? CblasTrans : CblasNoTrans, static_cast<int>(g.M),
              static_cast<int>(g.N), static_cast<int>(g.K), 1.0f, g.A, static_cast<int>(g.lda), g.B,
              static_cast<int>(g.ldb), g.accumulate ? 1.0f : 0.0f, g.C, static_cast<int>(g.ldc));
}

void Multiplier::gemm_batched(const Gemm& g, int64_t batch, int64_t stride_a, int64_t stride_b, int64_t stride_c) {
  // Small per-item GEMMs (attention heads): parallel over items, each item on one thread.
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < batch; ++i) {
    Gemm gi = g;
    gi.A = g.A + i * stride_a;
    gi.B = g.B + i * stride_b;
    gi.C = g.C + i * stride_c;
    gemm(gi);
  }
}

namespace {
class Exact final : public Multiplier {
 public:
  std::string spec() const override { return "exact"; }
  bool quantize(Role, const float*, int64_t, int64_t, int64_t, float*) override { return false; }
  void gemm(const Gemm& g) override { sgemm(g); }
};
}  // namespace

namespace {

std::unique_ptr<Multiplier> make_exact(std::string_view options, uint64_t) {
  SpecOptions o("exact", options);
  o.finish();
  return std::make_unique<Exact>();
}

bool exact_reference_quantize(std::string_view options, uint64_t, Role, const float*, int64_t, int64_t, float*) {
  SpecOptions o("exact", options);
  o.finish();
  return false;
}

}  // namespace

extern const FormatInfo exact_format{
    .name = "exact",
    .help = "exact fp32 products (OpenBLAS sgemm)",
    .example = "exact",
    .make = &make_exact,
    .reference_quantize = &exact_reference_quantize,
};

}  // namespace lmul::arith
