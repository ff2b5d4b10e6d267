// Hessian traces per block of weights (HAWQ-V3's sensitivity, Yao et al. 2021 §3.3): Hutchinson's
// estimator Tr(H_ii) = E[v_iᵀ (H v)_i] over Rademacher vectors v, one v over all blocks at once
// (the cross terms v_iᵀ H_ij v_j, j ≠ i, vanish in expectation), the Hessian-vector product by
// central differences of gradients:
//     H v ≈ (∇L(w + εv) − ∇L(w − εv)) / (2ε),
// an O(ε²) truncation error (third derivatives) plus fp32 gradient round-off over 2ε.
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

#include "core/tensor.h"

namespace lmul::train {

// Recomputes the gradient of one fixed loss (fixed data, no dropout) at the blocks' current values
// into their grad buffers (it zeroes them first).
using GradientFn = std::function<void()>;

struct TraceEstimate {
  double trace = 0;      // the mean over the probes
  double std_error = 0;  // the standard error of that mean (0 for one probe, or for coordinate probes)
};

struct HutchinsonOptions {
  int64_t samples = 32;  // Rademacher vectors
  float eps = 1e-3f;     // the central-difference step along v (|v_k| = 1, so per weight)
  uint64_t seed = 1;
};

// One estimate per block. The blocks' values are exactly as they were on return.
std::vector<TraceEstimate> hutchinson_traces(const std::vector<Tensor>& blocks, const GradientFn& gradient,
                                             const HutchinsonOptions& options);

// Tr(H_ii) = Σ_k e_kᵀ H e_k by central differences along every coordinate of every block (as many
// gradient pairs as weights): the deterministic sum Hutchinson's estimator samples, for small
// cases and tests.
std::vector<TraceEstimate> coordinate_traces(const std::vector<Tensor>& blocks, const GradientFn& gradient, float eps);

}  // namespace lmul::train
