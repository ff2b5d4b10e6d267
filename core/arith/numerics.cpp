#include "core/arith/numerics.h"

#include <charconv>
#include <cmath>
#include <numbers>
#include <sstream>

#include <fmt/format.h>

#include "core/arith/counter_random.h"
#include "core/arith/int8_linear.h"
#include "core/error.h"

namespace lmul::arith {

namespace {

bool parse_float(std::string_view s, float& v) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && end == s.data() + s.size();
}

}  // namespace

std::vector<std::vector<float>> read_number_lines(std::istream& in, int fields, std::string_view what) {
  std::vector<std::vector<float>> rows;
  std::string line;
  for (int64_t no = 1; std::getline(in, line); ++no) {
    std::istringstream words(line);
    std::vector<float> row;
    std::string w;
    while (words >> w) {
      float v = 0;
      if (!parse_float(w, v))
        throw Error("{} line {}: '{}' is not a number (expected {} number{} per line)", what, no, w, fields,
                    fields == 1 ? "" : "s");
      row.push_back(v);
    }
    if (row.empty()) continue;
    if (static_cast<int>(row.size()) != fields)
      throw Error("{} line {}: {} numbers, expected {} per line", what, no, row.size(), fields);
    rows.push_back(std::move(row));
  }
  return rows;
}

std::vector<float> quantize_values(std::string_view spec, std::span<const float> xs, Role role, uint64_t seed) {
  auto m = make_multiplier(spec, seed);
  std::vector<float> out(xs.begin(), xs.end());
  const auto n = static_cast<int64_t>(xs.size());
  if (n > 0 && !m->quantize(role, xs.data(), 1, n, n, out.data())) out.assign(xs.begin(), xs.end());
  return out;
}

std::vector<float> multiply_pairs(Multiplier& m, std::span<const float> xs, std::span<const float> ys) {
  LMUL_ASSERT(xs.size() == ys.size());
  const auto n = static_cast<int64_t>(xs.size());
  std::vector<float> qx(xs.begin(), xs.end()), qy(ys.begin(), ys.end()), c(xs.size());
  if (n == 0) return c;
  if (m.int8_forward()) {  // gemm=int: each product is a 1×1×1 integer forward GEMM of the codes
    Int8Codes cx, cy;
    m.int8_codes(Role::activation, xs.data(), 1, n, n, cx);
    m.int8_codes(Role::weight, ys.data(), 1, n, n, cy);
    for (int64_t i = 0; i < n; ++i) {
      const auto k = static_cast<size_t>(i);
      const Int8Codes a{{cx.code[k]}, {cx.scale[0]}, cx.divide, {std::isnan(xs[k])}};
      const Int8Codes b{{cy.code[k]}, {cy.scale[0]}, cy.divide, {std::isnan(ys[k])}};
      int8_linear(a, b, 1, 1, 1, &c[k], 1);
    }
    return c;
  }
  if (!m.quantize(Role::activation, xs.data(), 1, n, n, qx.data())) qx.assign(xs.begin(), xs.end());
  if (!m.quantize(Role::weight, ys.data(), 1, n, n, qy.data())) qy.assign(ys.begin(), ys.end());
  for (int64_t i = 0; i < n; ++i) m.gemm(Gemm{false, false, 1, 1, 1, &qx[i], 1, &qy[i], 1, &c[i], 1, false});
  return c;
}

float multiply(Multiplier& m, float x, float y) { return multiply_pairs(m, {&x, 1}, {&y, 1})[0]; }

ProductError product_error(std::string_view spec, int64_t n, uint64_t seed, bool round_product) {
  auto m = make_multiplier(spec, seed);
  ProductError e{m->spec(), 0, 0, 0};
  // Standard normals by Box–Muller from counter-based uniforms in (0, 1].
  const uint64_t key = mix64(seed ^ 0x6E756D6572696373ull);
  auto uniform = [&](uint64_t i) { return (static_cast<double>(mix64(key + i) >> 11) + 1.0) * 0x1p-53; };
  auto normal = [&](uint64_t i) {
    return static_cast<float>(std::sqrt(-2.0 * std::log(uniform(2 * i))) *
                              std::cos(2.0 * std::numbers::pi * uniform(2 * i + 1)));
  };
  std::vector<float> xs(static_cast<size_t>(n)), ys(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    xs[i] = normal(2 * static_cast<uint64_t>(i));
    ys[i] = normal(2 * static_cast<uint64_t>(i) + 1);
  }
  std::vector<float> p = multiply_pairs(*m, xs, ys);
  if (round_product && n > 0) {
    std::vector<float> rp(p.size());
    if (m->quantize(Role::activation, p.data(), 1, n, n, rp.data())) p = rp;
  }
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double exact = static_cast<double>(xs[i] * ys[i]);
    if (exact == 0.0) continue;
    const double rel = std::fabs(static_cast<double>(p[i]) - exact) / std::fabs(exact);
    sum += rel;
    e.max = std::max(e.max, rel);
    ++e.n;
  }
  e.mean = e.n ? sum / static_cast<double>(e.n) : 0.0;
  return e;
}

std::string format_product_errors(std::span<const ProductError> rows) {
  size_t w = 4;
  for (const auto& r : rows) w = std::max(w, r.spec.size());
  std::string s = fmt::format("{:<{}}  {:>12}  {:>12}  {:>8}\n", "spec", w, "mean rel err", "max rel err", "pairs");
  for (const auto& r : rows)
    s += fmt::format("{:<{}}  {:>11.3f}%  {:>11.3f}%  {:>8}\n", r.spec, w, 100 * r.mean, 100 * r.max, r.n);
  return s;
}

}  // namespace lmul::arith
