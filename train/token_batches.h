// nanoGPT's get_batch as a BatchSource: B random windows of T+1 tokens of a prepared data
// directory's train.bin / val.bin; the loader state is the generator of the window offsets.
#pragma once
#include <string>

#include "core/rng.h"
#include "data/token_dataset.h"
#include "train/batch_source.h"

namespace lmul::train {

class TokenBatches final : public BatchSource {
 public:
  // dir: a prepared data directory; seed: the run's seed (the training windows' generator).
  TokenBatches(const std::string& dir, int64_t seed);

  int64_t vocab_size() const override { return data_.vocab_size(); }
  void check_block_size(int64_t T, const std::string& source) const override;
  void next_train(int64_t B, int64_t T, Batch& out) override;
  std::unique_ptr<BatchStream> evaluation(data::Split split, int64_t seed) const override;
  State state() const override { return {rng_.seed(), rng_.counter()}; }
  void set_state(const State& s) override { rng_.set_state(s.seed, s.counter); }

  const data::TokenDataset& dataset() const { return data_; }

 private:
  data::TokenDataset data_;
  Rng rng_;
};

}  // namespace lmul::train
