#include "train/multiply_task.h"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "core/error.h"
#include "core/rng.h"

namespace lmul::train {

namespace {
// Draws per sample: n digits of x, n of y, the simple-row coin, the kept digit of a simple y.
uint64_t draws_per_sample(int n) { return 2 * static_cast<uint64_t>(n) + 2; }

// The training generator's seed: the run seed mixed, never the held-out set's seed.
uint64_t train_seed(int64_t seed) {
  uint64_t s = Rng::mix(static_cast<uint64_t>(seed) ^ 0x6d756c7469706c79ull);  // "multiply"
  return s == MultiplyTask::kHeldOutSeed ? s + 1 : s;
}

class MultiplyStream final : public BatchStream {
 public:
  // cycle > 0: samples 0..cycle-1 over and over (the held-out set); 0: fresh samples.
  MultiplyStream(const MultiplyBatches& source, uint64_t seed, double simple, uint64_t cycle)
      : source_(source), seed_(seed), simple_(simple), cycle_(cycle) {}
  void next(int64_t B, int64_t T, Batch& out) override {
    out.x.resize(static_cast<size_t>(B * T));
    out.y.resize(static_cast<size_t>(B * T));
    for (int64_t b = 0; b < B; ++b) {
      source_.fill_row(seed_, index_, simple_, T, b, out);
      index_ = cycle_ ? (index_ + 1) % cycle_ : index_ + 1;
    }
  }

 private:
  const MultiplyBatches& source_;
  uint64_t seed_;
  double simple_;
  uint64_t cycle_;
  uint64_t index_ = 0;
};

bool parse_bool(const std::string& spec, const std::string& key, const std::string& v) {
  if (v == "true") return true;
  if (v == "false") return false;
  throw Error("dataset '{}': {}={} is not a boolean (write {}=true or {}=false)", spec, key, v, key, key);
}
}  // namespace

void MultiplyTask::sample(uint64_t seed, uint64_t index, double simple_fraction, int32_t* out) const {
  const int n = digits;
  const Rng rng(seed);
  const uint64_t base = index * draws_per_sample(n);
  uint64_t x = 0, y = 0;
  int32_t* xd = out;
  int32_t* yd = out + n + 1;
  for (int i = 0; i < n; ++i) xd[i] = static_cast<int32_t>(rng.at(base + i) % 10);
  for (int i = 0; i < n; ++i) yd[i] = static_cast<int32_t>(rng.at(base + n + i) % 10);
  if (rng.uniform_at(base + 2 * n) < simple_fraction) {
    // A simple row (the paper's data augmentation): y keeps one of its digits, the rest are 0.
    const int keep = static_cast<int>(rng.at(base + 2 * n + 1) % static_cast<uint64_t>(n));
    for (int i = 0; i < n; ++i)
      if (i != keep) yd[i] = 0;
  }
  for (int i = 0; i < n; ++i) {
    x = x * 10 + static_cast<uint64_t>(xd[i]);
    y = y * 10 + static_cast<uint64_t>(yd[i]);
  }
  out[n] = kTimes;
  out[2 * n + 1] = kEquals;
  uint64_t z = x * y;  // < 10^(2n) <= 10^18
  int32_t* zd = out + 2 * n + 2;
  for (int i = 0; i < 2 * n; ++i) {  // units first
    const int pos = reverse ? i : 2 * n - 1 - i;
    zd[pos] = static_cast<int32_t>(z % 10);
    z /= 10;
  }
}

std::vector<std::string> MultiplyTask::token_text() {
  std::vector<std::string> text;
  for (char d = '0'; d <= '9'; ++d) text.emplace_back(1, d);
  text.emplace_back("*");
  text.emplace_back("=");
  return text;
}

bool is_task_spec(const std::string& dataset) {
  const size_t colon = dataset.find(':');
  if (colon == std::string::npos || colon == 0) return false;
  for (size_t i = 0; i < colon; ++i)
    if (!std::isalnum(static_cast<unsigned char>(dataset[i])) && dataset[i] != '_') return false;
  return true;
}

MultiplyTask parse_multiply_task(const std::string& spec) {
  const size_t colon = spec.find(':');
  const std::string name = spec.substr(0, colon);
  if (name != "multiply")
    throw Error(
        "dataset '{}': unknown task '{}' (known tasks: multiply:digits=N[,reverse=true|false][,simple=F]; "
        "a data directory has no ':' before its first '/')",
        spec, name);
  MultiplyTask t;
  bool have_digits = false;
  const std::string options = colon == std::string::npos ? "" : spec.substr(colon + 1);
  size_t pos = 0;
  while (pos < options.size()) {
    size_t end = options.find(',', pos);
    if (end == std::string::npos) end = options.size();
    const std::string part = options.substr(pos, end - pos);
    pos = end + 1;
    const size_t eq = part.find('=');
    if (eq == std::string::npos)
      throw Error("dataset '{}': option '{}' has no value (write key=value; keys: digits, reverse, simple)", spec,
                  part);
    const std::string key = part.substr(0, eq), v = part.substr(eq + 1);
    char* stop = nullptr;
    errno = 0;
    if (key == "digits") {
      const long long d = std::strtoll(v.c_str(), &stop, 10);
      if (v.empty() || *stop != '\0' || errno != 0 || d < 1 || d > MultiplyTask::kMaxDigits)
        throw Error("dataset '{}': digits={} is out of range (allowed 1..{})", spec, v, MultiplyTask::kMaxDigits);
      t.digits = static_cast<int>(d);
      have_digits = true;
    } else if (key == "reverse") {
      t.reverse = parse_bool(spec, key, v);
    } else if (key == "simple") {
      const double f = std::strtod(v.c_str(), &stop);
      if (v.empty() || *stop != '\0' || !std::isfinite(f) || f < 0 || f > 1)
        throw Error("dataset '{}': simple={} is out of range (a fraction in 0..1)", spec, v);
      t.simple = f;
    } else {
      throw Error("dataset '{}': unknown option '{}' (keys: digits, reverse, simple)", spec, key);
    }
  }
  if (!have_digits) throw Error("dataset '{}': digits is required (e.g. multiply:digits=3)", spec);
  return t;
}

MultiplyBatches::MultiplyBatches(const MultiplyTask& task, int64_t seed) : task_(task), seed_(train_seed(seed)) {}

void MultiplyBatches::check_block_size(int64_t T, const std::string& source) const {
  if (T != task_.block_size())
    throw Error(
        "{}: block_size={} does not fit dataset multiply:digits={}: a sample is {} tokens, so set "
        "block_size = 4*digits+1 = {}",
        source, T, task_.digits, task_.sample_tokens(), task_.block_size());
}

void MultiplyBatches::fill_row(uint64_t seed, uint64_t index, double simple_fraction, int64_t T, int64_t b,
                               Batch& out) const {
  if (T != task_.block_size())
    throw Error("multiply:digits={}: sequences are {} tokens, asked for T={}", task_.digits, task_.block_size(), T);
  int32_t tokens[4 * MultiplyTask::kMaxDigits + 2];
  task_.sample(seed, index, simple_fraction, tokens);
  const int64_t answer_from = 2 * int64_t{task_.digits} + 1;  // x position whose target is the first answer digit
  for (int64_t t = 0; t < T; ++t) {
    out.x[static_cast<size_t>(b * T + t)] = tokens[t];
    out.y[static_cast<size_t>(b * T + t)] = t >= answer_from ? tokens[t + 1] : -1;
  }
}

void MultiplyBatches::next_train(int64_t B, int64_t T, Batch& out) {
  out.x.resize(static_cast<size_t>(B * T));
  out.y.resize(static_cast<size_t>(B * T));
  for (int64_t b = 0; b < B; ++b) fill_row(seed_, counter_++, task_.simple, T, b, out);
}

std::unique_ptr<BatchStream> MultiplyBatches::evaluation(data::Split split, int64_t seed) const {
  if (split == data::Split::val)
    return std::make_unique<MultiplyStream>(*this, MultiplyTask::kHeldOutSeed, 0.0,
                                            static_cast<uint64_t>(MultiplyTask::kHeldOutSamples));
  // Train split: fresh samples of the training distribution, the same at every evaluation.
  return std::make_unique<MultiplyStream>(*this, train_seed(seed) ^ 0xe7a1e7a1ull, task_.simple, 0);
}

}  // namespace lmul::train
