#include "nn/sampling.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <vector>

namespace lmul::nn {

int32_t greedy_next(std::span<const float> logits) {
  return static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
}

int32_t sample_next(std::span<const float> logits, const SamplingOptions& o, Rng& rng) {
  const int64_t V = static_cast<int64_t>(logits.size());
  std::vector<float> l(logits.begin(), logits.end());
  for (float& v : l) v /= o.temperature;
  if (o.top_k > 0 && o.top_k < V) {
    std::vector<float> s = l;
    std::nth_element(s.begin(), s.begin() + (o.top_k - 1), s.end(), std::greater<float>());
    const float kth = s[static_cast<size_t>(o.top_k - 1)];
    for (float& v : l)
      if (v < kth) v = -INFINITY;
  }
  const float mx = *std::max_element(l.begin(), l.end());
  double sum = 0;
  std::vector<double> p(l.size());
  for (size_t i = 0; i < l.size(); ++i) sum += p[i] = std::exp(static_cast<double>(l[i] - mx));
  double u = static_cast<double>(rng.uniform()) * sum;
  int32_t last = 0;  // the last id with a nonzero probability (u can reach sum by rounding)
  for (size_t i = 0; i < p.size(); ++i) {
    if (p[i] == 0) continue;
    last = static_cast<int32_t>(i);
    if ((u -= p[i]) < 0) return last;
  }
  return last;
}

}  // namespace lmul::nn
