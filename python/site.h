// lmul.Site: one GEMM site (a Linear layer, an attention product) with its forward and backward
// arithmetic, as core/gemm_site.h; the explicit state object of stateful formats (fp8's delayed
// scaling history, a stochastic rounding stream). Calls on one Site are serialised (a mutex),
// different Sites run in parallel with the GIL released.
#pragma once
#include <pybind11/pybind11.h>

#include <mutex>
#include <string>

#include "core/gemm_site.h"

namespace lmul::python {

struct Site {
  Site(const std::string& forward, const std::string& backward, uint64_t seed, const std::string& name);
  GemmSite site;
  std::mutex mutex;
};

// Binds lmul.Site and the module functions that take a spec or a Site (quantize, matmul).
void bind_site(pybind11::module_& m);

}  // namespace lmul::python
