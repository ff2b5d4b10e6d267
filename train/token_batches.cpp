#include "train/token_batches.h"

#include "core/error.h"

namespace lmul::train {

namespace {
class TokenStream final : public BatchStream {
 public:
  TokenStream(const data::TokenDataset& data, data::Split split, uint64_t seed)
      : data_(data), split_(split), rng_(seed) {}
  void next(int64_t B, int64_t T, Batch& out) override { data_.batch(split_, B, T, rng_, out.x, out.y); }

 private:
  const data::TokenDataset& data_;
  data::Split split_;
  Rng rng_;
};
}  // namespace

TokenBatches::TokenBatches(const std::string& dir, int64_t seed)
    : data_(dir), rng_(static_cast<uint64_t>(seed) ^ 0xda7aull) {}

void TokenBatches::check_block_size(int64_t T, const std::string& source) const {
  for (auto s : {data::Split::train, data::Split::val})
    if (data_.tokens(s) <= T)
      throw Error("{}: block_size={} is too large: {} has only {} {} tokens (lower block_size)", source, T, data_.dir(),
                  data_.tokens(s), s == data::Split::train ? "train" : "val");
}

void TokenBatches::next_train(int64_t B, int64_t T, Batch& out) {
  data_.batch(data::Split::train, B, T, rng_, out.x, out.y);
}

std::unique_ptr<BatchStream> TokenBatches::evaluation(data::Split split, int64_t seed) const {
  return std::make_unique<TokenStream>(data_, split, static_cast<uint64_t>(seed) ^ 0xe7a1e7a1ull);
}

}  // namespace lmul::train
