#include "core/gemm_site.h"

namespace lmul {

GemmSite GemmSite::make(std::string name, const Specs& specs, uint64_t seed) {
  const std::string& forward_spec = specs.forward;
  const std::string& backward_spec = specs.backward;
  GemmSite s;
  s.name = std::move(name);
  s.forward = arith::make_multiplier(forward_spec, seed);
  // The backward instance is its own object even when "same": it keeps its own scaling state.
  const std::string& b = backward_spec == "same" ? forward_spec : backward_spec;
  s.backward = arith::make_multiplier(b, seed ^ 0x5bd1e995ull);
  s.backward_same = backward_spec == "same" || backward_spec == forward_spec;
  return s;
}

}  // namespace lmul
