// HAWQ-V3's Hessian-aware mixed precision for a trained run (`lmul precision`): per Linear module
// of the blocks, the Hessian trace of the training loss on fixed batches (train/hessian_trace.h),
// the sensitivity Ω_i(b) = Tr(H_i)/n_i · ‖Q_b(W_i) − W_i‖², and the exact optimum of the bit
// allocation under an average-bits budget (train/bit_allocation.h), as an [arith.modules] table.
// lm_head (tied to wte) keeps its site's arithmetic.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "train/bit_allocation.h"
#include "train/hessian_trace.h"
#include "train/run.h"

namespace lmul::train {

struct PrecisionOptions {
  std::vector<int> bits = {4, 8};
  double avg_bits = 6;                               // budget: Σ n_i·b_i ≤ avg_bits · Σ n_i
  std::string format = "int:b={bits},gran=channel";  // Q_b and the spec written, {bits} replaced
  int64_t batches = 4;                               // training batches of the fixed loss
  HutchinsonOptions hutchinson;
};

struct PrecisionRow {
  std::string module;
  int64_t params = 0;
  TraceEstimate trace;
  std::vector<double> quant_error;  // ‖Q_b(W) − W‖² per bit-width
  std::vector<double> omega;        // per bit-width
  int bits = 0;                     // chosen
  std::string spec;                 // chosen, canonical
};

struct PrecisionResult {
  std::vector<PrecisionRow> rows;
  Allocation allocation;
  double avg_bits = 0;  // of the allocation
};

// The spec of a bit-width: format with "{bits}" replaced, canonical. Throws lmul::Error.
std::string precision_spec(const std::string& format, int bits);
// Checks the options (bit-widths 2..16, distinct; a format with {bits} that parses; positive counts).
void check_precision_options(const PrecisionOptions& o);

PrecisionResult hawq_precision(LoadedRun& run, const PrecisionOptions& o);

// The [arith.modules] fragment (TOML), with a comment header naming how it was made.
std::string modules_fragment(const PrecisionResult& r, const std::string& header);

}  // namespace lmul::train
