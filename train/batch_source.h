// Where a run's sequences come from. The training loop, the evaluation and the checkpoints see
// only this interface: random windows of a prepared `.bin` (TokenBatches) are one source; a
// generated task whose samples are whole sequences with a loss mask is another.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "data/token_dataset.h"
#include "data/tokenizer.h"

namespace lmul::train {

struct TrainConfig;

// B sequences of T ids. y[i] = -1 masks position i out of the loss (the per-position loss mask).
struct Batch {
  std::vector<int32_t> x, y;
};

// A stream of batches (the evaluation batches of one split).
class BatchStream {
 public:
  virtual ~BatchStream() = default;
  virtual void next(int64_t B, int64_t T, Batch& out) = 0;
};

class BatchSource {
 public:
  virtual ~BatchSource() = default;

  // Ids the data uses (the model's vocab_size must be at least this).
  virtual int64_t vocab_size() const = 0;
  // Throws lmul::Error (naming `source`, the config, and the key to change) when sequences of T
  // ids cannot be drawn from every split.
  virtual void check_block_size(int64_t T, const std::string& source) const = 0;

  // The next training micro-batch; advances the loader state.
  virtual void next_train(int64_t B, int64_t T, Batch& out) = 0;
  // The evaluation batches of a split: a fresh stream, the same batches at every call with the
  // same seed (every evaluation of a run sees the same data).
  virtual std::unique_ptr<BatchStream> evaluation(data::Split split, int64_t seed) const = 0;
  // True for a task whose rows are scored as answers (accuracy beside the loss: the training
  // loop logs val_accuracy, `lmul eval` prints it).
  virtual bool has_answers() const { return false; }

  // The loader state, for checkpoints: two words (a generator's seed and position).
  struct State {
    uint64_t seed = 0, counter = 0;
  };
  virtual State state() const = 0;
  virtual void set_state(const State& s) = 0;
};

// The source a config's `dataset` names — a prepared data directory (TokenBatches) or a generated
// task "name:key=value,..." (today multiply:digits=N, MultiplyBatches) — seeded from the config's
// seed. Throws lmul::Error naming the config file and the fix.
std::unique_ptr<BatchSource> make_batch_source(const TrainConfig& c);

// The tokenizer of a config's `dataset`: the one its meta.json names, or a generated task's own
// (multiply: the characters 0-9, '*', '=' as ids 0-11). Throws lmul::Error like make_batch_source.
std::unique_ptr<data::Tokenizer> make_tokenizer(const TrainConfig& c);

}  // namespace lmul::train
