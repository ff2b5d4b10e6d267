// The n-digit multiplication task of Qiu et al. 2024 ("Dissecting Multiplication in Transformers",
// arXiv 2407.15360) as a generated BatchSource: no data files, every sample a pure function of
// (generator seed, sample index), so runs are deterministic and resume bit for bit.
//
// A sample is the 4n+2 tokens "x*y=z": x and y n digits, most significant first, zero-padded
// (every digit uniform 0-9); z = x*y zero-padded to 2n digits, written units first when reversed.
// Tokens: digits 0-9, '*' = 10, '=' = 11 (vocabulary 12). A sequence is one whole sample: x =
// tokens[0, 4n+1), y = tokens[1, 4n+2) with every target but the 2n answer digits masked (-1).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "train/batch_source.h"

namespace lmul::train {

struct MultiplyTask {
  int digits = 0;        // n
  bool reverse = true;   // product written least-significant digit first
  double simple = 0.45;  // fraction of training rows whose y has all digits but one zero

  static constexpr int32_t kTimes = 10, kEquals = 11, kVocab = 12;
  static constexpr int kMaxDigits = 9;  // 2n-digit products in 64-bit arithmetic with room
  static constexpr int64_t kHeldOutSamples = 10000;
  // The held-out set: the first kHeldOutSamples samples of this seed, no simple rows. Training
  // generators never use it (their seed is derived from the run seed and skips this value).
  static constexpr uint64_t kHeldOutSeed = 0x5eed4e1d0011ull;

  // The text of ids 0..kVocab-1: "0".."9", "*", "=".
  static std::vector<std::string> token_text();

  int64_t sample_tokens() const { return 4 * int64_t{digits} + 2; }
  int64_t block_size() const { return sample_tokens() - 1; }
  // Sample `index` of the generator seeded `seed` into out[0, 4n+2); simple: the chance of a
  // simple row (0 for the held-out set).
  void sample(uint64_t seed, uint64_t index, double simple_fraction, int32_t* out) const;
};

// True when `dataset` names a generated task ("name:key=value,...") rather than a data directory:
// an identifier before a ':' (a path such as "./a:b" or "/x" is a directory).
bool is_task_spec(const std::string& dataset);
// Parses "multiply:digits=N[,reverse=true|false][,simple=F]". Throws lmul::Error (one line,
// naming the spec, the key and the allowed values) on an unknown task or option or a bad value.
MultiplyTask parse_multiply_task(const std::string& spec);

// The task as the training loop's data source.
class MultiplyBatches final : public BatchSource {
 public:
  MultiplyBatches(const MultiplyTask& task, int64_t seed);

  int64_t vocab_size() const override { return MultiplyTask::kVocab; }
  void check_block_size(int64_t T, const std::string& source) const override;
  void next_train(int64_t B, int64_t T, Batch& out) override;
  std::unique_ptr<BatchStream> evaluation(data::Split split, int64_t seed) const override;
  State state() const override { return {seed_, counter_}; }
  void set_state(const State& s) override {
    seed_ = s.seed;
    counter_ = s.counter;
  }

  bool has_answers() const override { return true; }

  const MultiplyTask& task() const { return task_; }
  // Fills row b of a B x T batch with sample `index` of generator `seed`.
  void fill_row(uint64_t seed, uint64_t index, double simple_fraction, int64_t T, int64_t b, Batch& out) const;

 private:
  MultiplyTask task_;
  uint64_t seed_;         // training generator
  uint64_t counter_ = 0;  // training samples drawn so far
};

}  // namespace lmul::train
