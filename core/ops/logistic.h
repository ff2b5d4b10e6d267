// The logistic σ(v) = 1/(1 + e^−v) of sigmoid, SiLU and the GLU gate, one definition: for v < 0
// written as e^v/(1 + e^v) so that e^−v cannot overflow. Both branches take e^−|v|.
#pragma once
#include <cmath>

namespace lmul::detail {

inline float logistic(float v) {
  const float e = std::exp(-std::fabs(v));
  return v >= 0 ? 1.0f / (1.0f + e) : e / (1.0f + e);
}

}  // namespace lmul::detail
