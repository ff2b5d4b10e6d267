#include "train/bit_allocation.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "core/error.h"

namespace lmul::train {

Allocation allocate_bits(const AllocationProblem& p) {
  const size_t m = p.params.size(), nb = p.bits.size();
  if (nb == 0) throw Error("bit allocation: no bit-widths to choose from");
  if (p.omega.size() != m) throw Error("bit allocation: {} modules but {} sensitivity rows", m, p.omega.size());
  int64_t unit = 0, smallest = 0;
  const int min_bits = *std::min_element(p.bits.begin(), p.bits.end());
  for (size_t i = 0; i < m; ++i) {
    for (int b : p.bits) unit = std::gcd(unit, p.params[i] * b);
    smallest += p.params[i] * min_bits;
  }
  if (static_cast<double>(smallest) > p.budget_bits)
    throw Error(
        "bit allocation: no allocation fits the budget of {:.0f} bits: the smallest, every module at {} bits, "
        "takes {} bits (raise the budget to at least {} average bits)",
        p.budget_bits, min_bits, smallest, min_bits);
  if (m == 0) return {};
  const auto cap = static_cast<int64_t>(std::floor(p.budget_bits / static_cast<double>(unit)));
  const int64_t states = std::min<int64_t>(cap, [&] {
    int64_t largest = 0;
    const int max_bits = *std::max_element(p.bits.begin(), p.bits.end());
    for (size_t i = 0; i < m; ++i) largest += p.params[i] * max_bits / unit;
    return largest;
  }());
  if (static_cast<double>(states + 1) * static_cast<double>(m) > 2e8)
    throw Error("bit allocation: {} size states × {} modules is too large for the exact dynamic program", states + 1,
                m);
  const double inf = std::numeric_limits<double>::infinity();
  // best[c]: the least Σ Ω of the modules so far taking exactly c units; choice[i][c] their pick.
  std::vector<double> best(static_cast<size_t>(states + 1), inf), next(best.size());
  std::vector<std::vector<int8_t>> choice(m, std::vector<int8_t>(best.size(), -1));
  best[0] = 0;
  for (size_t i = 0; i < m; ++i) {
    std::fill(next.begin(), next.end(), inf);
    for (size_t k = 0; k < nb; ++k) {
      const int64_t w = p.params[i] * p.bits[k] / unit;
      for (int64_t c = w; c <= states; ++c) {
        const double v = best[static_cast<size_t>(c - w)] + p.omega[i][k];
        if (v < next[static_cast<size_t>(c)]) {
          next[static_cast<size_t>(c)] = v;
          choice[i][static_cast<size_t>(c)] = static_cast<int8_t>(k);
        }
      }
    }
    std::swap(best, next);
  }
  int64_t at = 0;
  for (int64_t c = 1; c <= states; ++c)
    if (best[static_cast<size_t>(c)] < best[static_cast<size_t>(at)]) at = c;
  Allocation a;
  a.omega = best[static_cast<size_t>(at)];
  a.bits.resize(m);
  for (size_t i = m; i-- > 0;) {
    const int k = choice[i][static_cast<size_t>(at)];
    a.bits[i] = p.bits[static_cast<size_t>(k)];
    a.size_bits += p.params[i] * p.bits[static_cast<size_t>(k)];
    at -= p.params[i] * p.bits[static_cast<size_t>(k)] / unit;
  }
  return a;
}

}  // namespace lmul::train
