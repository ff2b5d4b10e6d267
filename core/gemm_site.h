// A GEMM site of a model (a Linear layer, the attention products, the head): the arithmetic of its
// forward pass and of its backward pass (docs/ARCHITECTURE.md §3: `backward = same | exact | SPEC`).
#pragma once
#include <memory>
#include <string>

#include "core/arith/arith.h"

namespace lmul {

struct GemmSite {
  std::string name;  // e.g. "transformer.h.0.attn.c_attn"
  std::unique_ptr<arith::Multiplier> forward;
  std::unique_ptr<arith::Multiplier> backward;
  // backward is the same spec as forward: the operands quantised in the forward pass are reused
  // as they are, only the incoming gradient is quantised.
  bool backward_same = true;

  // forward: any spec; backward: "same", "exact" or a spec.
  struct Specs {
    std::string forward = "exact", backward = "same";
  };
  // seed feeds stochastic rounding.
  static GemmSite make(std::string name, const Specs& specs, uint64_t seed);
  static GemmSite exact(std::string name = "exact") { return make(std::move(name), Specs{}, 0); }
};

}  // namespace lmul
