// The rounding option common to the quantisers: round=nearest (ties to even) | stochastic
// (QPyTorch-style, rounding up with probability equal to the dropped fraction).
#pragma once
#include "core/arith/spec.h"

namespace lmul::arith {

enum class Rounding { nearest, stochastic };

inline Rounding rounding_option(SpecOptions& o) {
  return o.choice("round", "nearest", "nearest|stochastic") == "nearest" ? Rounding::nearest : Rounding::stochastic;
}

inline const char* rounding_name(Rounding r) { return r == Rounding::nearest ? "nearest" : "stochastic"; }

}  // namespace lmul::arith
