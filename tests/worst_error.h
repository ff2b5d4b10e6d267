// A running maximum of errors that keeps NaN: std::max(worst, NaN) returns worst, so a NaN output
// (an overflow, a 0·Inf) would pass a `worst <= tolerance` check silently.
#pragma once
#include <cmath>

namespace lmul::testing {

inline double worse(double worst, double error) { return std::isnan(error) || error > worst ? error : worst; }

}  // namespace lmul::testing
