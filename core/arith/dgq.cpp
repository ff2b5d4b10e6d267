// dgq:g=128,pct=100 — A8W4 Dual Grained Quantization (dgq_math.h has the definition): weights as
// u4 codes with a zero point per group of g input elements, an int8 group scale and an fp32
// channel scale, W = s⁽¹⁾·S⁽²⁾·(u − zp) with S⁽²⁾·(u − zp) in int8 (the paper's two-phase grid
// search picks the scales at every quantisation); activations per token (row) in symmetric int8,
// the token's scale t/127 with t the pct-th percentile of its |x| (pct=100: its max, no clipping;
// the clipped outliers saturate at ±127). The paper's percentile clipping also smooths the clipped
// channels into the weights (a calibration pass over the model); here the clipping is per token,
// inside the GEMM, and nothing is migrated. Gradients stay fp32. The GEMM is the exact emulation:
// every quantised operand is s·k with k an int8 value (one fp32 rounding), summed by sgemm — an
// INT8×INT8 GEMM with an fp32 rescale up to that rounding and the summation order.
// NaN stays NaN; ±Inf clamp to the clipped extremes. g must divide a weight's input width.
//
// Export codec dgq:g=G (`lmul export --format dgq:g=G`): per rows×cols weight (ng = cols/G groups a
// row) the stored form DgqWeights as four tensors, the u4 codes under the weight's name (U8, two a
// byte, {⌈rows·cols/2⌉}), "<name>.zeros" (U8, two a byte, {⌈rows·ng/2⌉}), "<name>.group_scale"
// (I8 {rows, ng}) and "<name>.channel_scale" (F32 {rows}); it decodes to DgqWeights::value, the
// weights the arithmetic dgq:g=G multiplies, bit for bit. pct is accepted and dropped: it is the
// activations' clipping, which an export of weights does not hold.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include <fmt/format.h>

#include "core/arith/arith.h"
#include "core/arith/dgq_math.h"
#include "core/arith/export_codec.h"
#include "core/arith/int_math.h"
#include "core/arith/spec.h"
#include "core/error.h"

namespace lmul::arith {

namespace {

struct DgqOptions {
  int64_t group;
  double pct;
};

DgqOptions parse_dgq(std::string_view options) {
  SpecOptions o(options.empty() ? "dgq" : fmt::format("dgq:{}", options), options);
  const int64_t g = o.integer("g", 128, 1, 1 << 20);
  const double pct = o.real("pct", 100.0, 50.0, 100.0);
  o.finish();
  return {g, pct};
}

// One token: s = percentile/127, values int_value_ref (q = clamp(round(x/s), ±127)).
void quantize_token(const float* x, int64_t n, double pct, float* out) {
  const float s = abs_percentile(x, n, pct) / static_cast<float>(kDgqS8Max);
  for (int64_t j = 0; j < n; ++j) out[j] = int_value_ref(x[j], s, kDgqS8Max, Rounding::nearest, 0);
}

class Dgq final : public Multiplier {
 public:
  explicit Dgq(DgqOptions o) : o_(o) {}

  std::string spec() const override { return fmt::format("dgq:g={},pct={}", o_.group, o_.pct); }

  bool quantize(Role role, const float* x, int64_t rows, int64_t cols, int64_t ld, float* out) override {
    if (role == Role::gradient) return false;
    if (role == Role::activation) {
#pragma omp parallel for schedule(static) if (rows * cols > 16384)
      for (int64_t i = 0; i < rows; ++i) quantize_token(x + i * ld, cols, o_.pct, out + i * cols);
      return true;
    }
    const DgqWeights q = dgq_quantize_weights(x, rows, cols, ld, o_.group);
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < cols; ++j) {
        const float v = x[i * ld + j];
        out[i * cols + j] = std::isnan(v) ? v : q.value(i, j);
      }
    return true;
  }

  void gemm(const Gemm& g) override { sgemm(g); }

 private:
  DgqOptions o_;
};

std::unique_ptr<Multiplier> make_dgq(std::string_view options, uint64_t) {
  return std::make_unique<Dgq>(parse_dgq(options));
}

// The scalar reference: each phase as plain loops over the tensor, each value from the scalar
// definitions (dgq_group_scale, dgq_s2, dgq_code; abs_percentile by a full sort).
bool dgq_reference_quantize(std::string_view options, uint64_t, Role role, const float* x, int64_t rows, int64_t cols,
                            float* out) {
  const DgqOptions o = parse_dgq(options);
  if (role == Role::gradient) return false;
  if (role == Role::activation) {
    for (int64_t i = 0; i < rows; ++i) {
      std::vector<float> a;
      for (int64_t j = 0; j < cols; ++j)
        if (std::isfinite(x[i * cols + j])) a.push_back(std::fabs(x[i * cols + j]));
      std::sort(a.begin(), a.end());
      const auto m = static_cast<double>(a.size());
      const float t = a.empty() ? 0.0f : a[static_cast<size_t>(std::clamp(std::ceil(o.pct * m / 100.0), 1.0, m)) - 1];
      for (int64_t j = 0; j < cols; ++j)
        out[i * cols + j] =
            int_value_ref(x[i * cols + j], t / static_cast<float>(kDgqS8Max), kDgqS8Max, Rounding::nearest, 0);
    }
    return true;
  }
  if (cols % o.group != 0) throw Error("dgq: group size g={} does not divide the input width {}", o.group, cols);
  const int64_t ng = cols / o.group;
  std::vector<DgqGroupScale> fine(static_cast<size_t>(rows * ng));
  for (int64_t i = 0; i < rows; ++i)  // phase 1
    for (int64_t g = 0; g < ng; ++g)
      fine[static_cast<size_t>(i * ng + g)] = dgq_group_scale(x + i * cols + g * o.group, o.group);
  for (int64_t i = 0; i < rows; ++i) {  // phase 2
    float amax = 0;
    for (int64_t j = 0; j < cols; ++j)
      if (std::isfinite(x[i * cols + j])) amax = std::max(amax, std::fabs(x[i * cols + j]));
    auto value = [&](int64_t j, float s1) {
      const DgqGroupScale f = fine[static_cast<size_t>(i * ng + j / o.group)];
      const int s2 = dgq_s2(f.scale, s1);
      return s1 * static_cast<float>(s2 * (dgq_code(x[i * cols + j], s1, s2, f.zp) - f.zp));
    };
    float best_s1 = 0;
    double best_err = INFINITY;
    for (int r = 0; amax > 0 && r < kDgqChannelGrid; ++r) {
      const float s1 = static_cast<float>(amax * (1.02 - (r + 1) * 0.82 / kDgqChannelGrid) / kDgqS8Max);
      if (!(s1 > 0)) continue;
      double err = 0;
      for (int64_t j = 0; j < cols; ++j)
        if (std::isfinite(x[i * cols + j])) {
          const double e = static_cast<double>(value(j, s1)) - x[i * cols + j];
          err += e * e;
        }
      if (err < best_err) {
        best_err = err;
        best_s1 = s1;
      }
    }
    for (int64_t j = 0; j < cols; ++j) {
      const float v = x[i * cols + j];
      out[i * cols + j] = std::isnan(v) ? v : best_s1 > 0 ? value(j, best_s1) : 0.0f;
    }
  }
  return true;
}

class DgqCodec final : public ExportCodec {
 public:
  explicit DgqCodec(int64_t group) : group_(group) {}
  std::string spec() const override { return fmt::format("dgq:g={}", group_); }
  bool decodes_to_arithmetic() const override { return true; }

  std::vector<StoredTensor> store(std::span<const float> w, int64_t rows, int64_t cols) const override {
    const DgqWeights q = dgq_quantize_weights(w.data(), rows, cols, cols, group_);
    std::vector<StoredTensor> t;
    std::vector<uint8_t> codes = pack_bits(q.u4, 4), zeros = pack_bits(q.zp, 4);
    std::vector<uint8_t> s2(q.s2.size()), s1(q.s1.size() * sizeof(float));
    std::memcpy(s2.data(), q.s2.data(), s2.size());
    std::memcpy(s1.data(), q.s1.data(), s1.size());
    const auto size = [](const std::vector<uint8_t>& b) {
      return std::vector<int64_t>{static_cast<int64_t>(b.size())};
    };
    t.push_back({"", "U8", size(codes), std::move(codes)});
    t.push_back({".zeros", "U8", size(zeros), std::move(zeros)});
    t.push_back({".group_scale", "I8", {rows, cols / group_}, std::move(s2)});
    t.push_back({".channel_scale", "F32", {rows}, std::move(s1)});
    return t;
  }

  void load(const StoredTensors& tensors, int64_t rows, int64_t cols, float* out) const override {
    if (cols % group_ != 0) throw Error("{}: group size g={} does not divide the input width {}", spec(), group_, cols);
    DgqWeights q;
    q.rows = rows;
    q.cols = cols;
    q.group = group_;
    const size_t n = static_cast<size_t>(rows * cols), ng = static_cast<size_t>(rows * (cols / group_));
    const auto nibbles = [](size_t k) { return std::vector<int64_t>{static_cast<int64_t>((k + 1) / 2)}; };
    q.u4 = unpack_bits(tensors("", "U8", nibbles(n)), 4, n);
    q.zp = unpack_bits(tensors(".zeros", "U8", nibbles(ng)), 4, ng);
    q.s2.resize(ng);
    q.s1.resize(static_cast<size_t>(rows));
    std::memcpy(q.s2.data(), tensors(".group_scale", "I8", {rows, cols / group_}).data(), ng);
    std::memcpy(q.s1.data(), tensors(".channel_scale", "F32", {rows}).data(), q.s1.size() * sizeof(float));
    // The ranges store() keeps, so that the decoded weights are an A8W4 kernel's.
    for (size_t g = 0; g < ng; ++g)
      if (q.s2[g] < 1)
        throw Error("{}: group scale {} (row {}, group {}) is outside 1..{}", spec(), q.s2[g],
                    g / static_cast<size_t>(cols / group_), g % static_cast<size_t>(cols / group_), kDgqS8Max);
    for (size_t i = 0; i < q.s1.size(); ++i)
      if (!std::isfinite(q.s1[i]) || q.s1[i] < 0)
        throw Error("{}: channel scale {} (row {}) is not a finite float >= 0", spec(), q.s1[i], i);
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < cols; ++j) {
        const int v = q.w_s8(i, j);
        if (v < -kDgqS8Max || v > kDgqS8Max)
          throw Error("{}: weight (row {}, column {}): S2·(u − zp) = {} is outside the int8 range ±{}", spec(), i, j, v,
                      kDgqS8Max);
        out[i * cols + j] = q.value(i, j);
      }
  }

 private:
  int64_t group_;
};

std::unique_ptr<ExportCodec> make_dgq_codec(std::string_view options) {
  return std::make_unique<DgqCodec>(parse_dgq(options).group);
}

}  // namespace

extern const FormatInfo dgq_format{
    .name = "dgq",
    .help =
        "dgq[:g=128][,pct=100] A8W4 Dual Grained Quantization: u4 weights + zero point per group of g inputs, "
        "int8 group scale x fp32 channel scale (two-phase grid search); int8 activations per token clipped at "
        "the pct-th percentile of |x|; gradients fp32",
    .example = "dgq:g=5",
    .make = &make_dgq,
    .reference_quantize = &dgq_reference_quantize,
    .make_codec = &make_dgq_codec,
    .export_help = "dgq:g=G",
};

}  // namespace lmul::arith
