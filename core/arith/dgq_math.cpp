#include "core/arith/dgq_math.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "core/arith/finite_amax.h"
#include "core/error.h"

namespace lmul::arith {

int DgqWeights::w_s8(int64_t i, int64_t j) const {
  const size_t g = static_cast<size_t>(i * (cols / group) + j / group);
  return static_cast<int>(s2[g]) * (static_cast<int>(u4[static_cast<size_t>(i * cols + j)]) - static_cast<int>(zp[g]));
}

DgqGroupScale dgq_group_scale(const float* x, int64_t n) {
  double lo = 0, hi = 0;
  for (int64_t k = 0; k < n; ++k)
    if (std::isfinite(x[k])) {
      lo = std::min(lo, static_cast<double>(x[k]));
      hi = std::max(hi, static_cast<double>(x[k]));
    }
  DgqGroupScale best;
  if (hi == lo) return best;  // all zero: every code is the zero point
  double best_err = std::numeric_limits<double>::infinity();
  for (int i = 0; i < kDgqGroupGrid; ++i) {
    const double ratio = 1.02 - (i + 1) * 0.22 / kDgqGroupGrid;
    const float s = static_cast<float>((hi - lo) * ratio / kDgqU4Max);
    if (!(s > 0)) continue;  // a range so small that its step underflows: the group stays at zp
    const int zp = std::clamp(static_cast<int>(std::nearbyint(-lo * ratio / s)), 0, kDgqU4Max);
    double err = 0;
    for (int64_t k = 0; k < n; ++k) {
      if (!std::isfinite(x[k])) continue;
      const double xc = std::clamp(static_cast<double>(x[k]), lo * ratio, hi * ratio);
      const double q = std::clamp(std::nearbyint(xc / s) + zp, 0.0, static_cast<double>(kDgqU4Max));
      const double e = static_cast<double>(s) * (q - zp) - x[k];
      err += e * e;
    }
    if (err < best_err) {
      best_err = err;
      best = {s, zp};
    }
  }
  return best;
}

int dgq_s2(float fine_scale, float s1) {
  return static_cast<int>(std::clamp(std::nearbyint(static_cast<double>(fine_scale) / s1), 1.0, 1.0 * kDgqS8Max));
}

int dgq_code(float x, float s1, int s2, int zp) {
  const int int_max = kDgqS8Max / s2;  // |s2·(u − zp)| ≤ 127: the int8 range check
  const int lower = std::max(0, zp - int_max), upper = std::min(kDgqU4Max, zp + int_max);
  if (std::isnan(x)) return zp;
  const double lim = static_cast<double>(kDgqS8Max) * s1;
  const double xc = std::clamp(static_cast<double>(x), -lim, lim);
  const double q = std::nearbyint(xc / (static_cast<double>(s2) * s1)) + zp;
  return static_cast<int>(std::clamp(q, static_cast<double>(lower), static_cast<double>(upper)));
}

DgqWeights dgq_quantize_weights(const float* w, int64_t rows, int64_t cols, int64_t ld, int64_t group) {
  if (group <= 0 || cols % group != 0)
    throw Error("dgq: group size g={} does not divide the input width {} (choose a g dividing it, e.g. g={})", group,
                cols, std::gcd(cols, group));
  const int64_t ng = cols / group;
  DgqWeights q;
  q.rows = rows;
  q.cols = cols;
  q.group = group;
  q.u4.assign(static_cast<size_t>(rows * cols), 0);
  q.zp.assign(static_cast<size_t>(rows * ng), 0);
  q.s2.assign(static_cast<size_t>(rows * ng), 1);
  q.s1.assign(static_cast<size_t>(rows), 0.0f);
#pragma omp parallel for schedule(static) if (rows * cols > 16384)
  for (int64_t i = 0; i < rows; ++i) {
    const float* x = w + i * ld;
    std::vector<DgqGroupScale> fine(static_cast<size_t>(ng));
    for (int64_t g = 0; g < ng; ++g) fine[static_cast<size_t>(g)] = dgq_group_scale(x + g * group, group);  // phase 1
    const float amax = finite_amax(x, cols);
    float best_s1 = 0;
    if (amax > 0) {  // phase 2
      double best_err = std::numeric_limits<double>::infinity();
      for (int r = 0; r < kDgqChannelGrid; ++r) {
        const double ratio = 1.02 - (r + 1) * 0.82 / kDgqChannelGrid;
        const float s1 = static_cast<float>(amax * ratio / kDgqS8Max);
        if (!(s1 > 0)) continue;
        double err = 0;
        for (int64_t g = 0; g < ng; ++g) {
          const auto [fs, zp] = fine[static_cast<size_t>(g)];
          const int s2 = dgq_s2(fs, s1);
          for (int64_t k = g * group; k < (g + 1) * group; ++k) {
            if (!std::isfinite(x[k])) continue;
            const double e =
                static_cast<double>(s1 * static_cast<float>(s2 * (dgq_code(x[k], s1, s2, zp) - zp))) - x[k];
            err += e * e;
          }
        }
        if (err < best_err) {
          best_err = err;
          best_s1 = s1;
        }
      }
    }
    q.s1[static_cast<size_t>(i)] = best_s1;
    for (int64_t g = 0; g < ng; ++g) {
      const size_t gi = static_cast<size_t>(i * ng + g);
      const auto [fs, zp] = fine[static_cast<size_t>(g)];
      const int s2 = best_s1 > 0 ? dgq_s2(fs, best_s1) : 1;
      q.zp[gi] = static_cast<uint8_t>(zp);
      q.s2[gi] = static_cast<int8_t>(s2);
      for (int64_t k = g * group; k < (g + 1) * group; ++k)
        q.u4[static_cast<size_t>(i * cols + k)] =
            static_cast<uint8_t>(best_s1 > 0 ? dgq_code(x[k], best_s1, s2, zp) : zp);
    }
  }
  return q;
}

float abs_percentile(const float* x, int64_t n, double p) {
  std::vector<float> a;
  a.reserve(static_cast<size_t>(n));
  for (int64_t k = 0; k < n; ++k)
    if (std::isfinite(x[k])) a.push_back(std::fabs(x[k]));
  if (a.empty()) return 0.0f;
  const auto m = static_cast<int64_t>(a.size());
  const int64_t rank = std::clamp(static_cast<int64_t>(std::ceil(p * static_cast<double>(m) / 100.0)), int64_t{1}, m);
  auto nth = a.begin() + (rank - 1);
  std::nth_element(a.begin(), nth, a.end());
  return *nth;
}

}  // namespace lmul::arith
