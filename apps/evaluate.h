// nanoGPT's estimate_loss for one split, shared by the training loop and `lmul eval`: the mean of
// `iters` batch losses with dropout off. The batches come from their own generator seeded from the
// run's seed, restarted at every call, so every evaluation sees the same batches.
#pragma once
#include <cstdint>
#include <vector>

#include "data/token_dataset.h"
#include "nn/gpt.h"

namespace lmul::apps {

struct EvalBatches {
  std::vector<int32_t> x, y;  // iters·B·T ids each, batch after batch
};

// Leaves the model in evaluation mode. batches, when given, receives the ids evaluated (for `lmul eval --dump-batches`).
// last_token_only: the loss at the last position of each sequence only (the one with a full block of context, as
// the PoT paper measures) instead of the mean over all T positions.
double estimate_split_loss(nn::GPT& model, const data::TokenDataset& data, data::Split split, int64_t iters,
                           int64_t B, int64_t T, int64_t seed, EvalBatches* batches = nullptr,
                           bool last_token_only = false);

// Keeps the GEMM sites' arithmetic state (e.g. delayed-scaling histories) as it was at
// construction and puts it back at scope exit: an evaluation leaves no trace in training, so a
// run's losses do not depend on where it was interrupted and resumed.
class ArithStateGuard {
 public:
  explicit ArithStateGuard(nn::GPT& model);
  ~ArithStateGuard();
  ArithStateGuard(const ArithStateGuard&) = delete;
  ArithStateGuard& operator=(const ArithStateGuard&) = delete;

 private:
  nn::GPT& model_;
  std::vector<std::vector<uint8_t>> saved_;  // forward, backward per site
};

}  // namespace lmul::apps
