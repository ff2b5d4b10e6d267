// nanoGPT's estimate_loss for one split, shared by the training loop and `lmul eval`: the mean of
// `iters` batch losses with dropout off. The batches come from the source's evaluation stream,
// restarted at every call, so every evaluation sees the same batches.
#pragma once
#include <cstdint>
#include <vector>

#include "nn/language_model.h"
#include "train/batch_source.h"

namespace lmul::train {

struct EvalBatches {
  std::vector<int32_t> x, y;  // iters·B·T ids each, batch after batch
};

struct EvalOptions {
  int64_t iters = 200, batch_size = 12, block_size = 64, seed = 1337;
  // The loss at the last position of each sequence only (the one with a full block of context, as
  // the PoT paper measures) instead of the mean over all T positions.
  bool last_token_only = false;
  EvalBatches* batches = nullptr;  // receives the ids evaluated (for `lmul eval --dump-batches`)
};

// Leaves the model in evaluation mode and its arithmetic state as it was.
double estimate_split_loss(nn::LanguageModel& model, const BatchSource& source, data::Split split,
                           const EvalOptions& options);

// Keeps the GEMM sites' arithmetic state (e.g. delayed-scaling histories) as it was at
// construction and puts it back at scope exit: an evaluation leaves no trace in training, so a
// run's losses do not depend on where it was interrupted and resumed.
class ArithStateGuard {
 public:
  explicit ArithStateGuard(nn::LanguageModel& model);
  ~ArithStateGuard();
  ArithStateGuard(const ArithStateGuard&) = delete;
  ArithStateGuard& operator=(const ArithStateGuard&) = delete;

 private:
  nn::LanguageModel& model_;
  std::vector<std::vector<uint8_t>> saved_;  // forward, backward per site
};

}  // namespace lmul::train
