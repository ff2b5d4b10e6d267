#include "data/token_dataset.h"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <tuple>

#include "core/error.h"

namespace lmul::data {

TokenDataset::TokenDataset(const std::string& dir) : dir_(dir) {
  namespace fs = std::filesystem;
  if (!fs::is_directory(dir))
    throw Error(
        "dataset '{}' is not a directory (relative paths are from the working directory {}; create it with "
        "`lmul prepare char|gpt2 --input FILE --out {}`, or set dataset=PATH)",
        dir, fs::current_path().string(), dir);
  const std::string meta_path = dir + "/meta.json";
  std::ifstream in(meta_path);
  if (!in) throw Error("{}: missing (is '{}' a directory made by `lmul prepare char|gpt2`?)", meta_path, dir);
  try {
    meta_ = nlohmann::json::parse(in);
    const auto& vocab = meta_.at("vocab_size");
    // Not get<int64_t>() on any number: a float such as 1e30 would be converted out of range.
    if (!vocab.is_number_integer()) throw std::runtime_error("vocab_size " + vocab.dump() + " is not an integer");
    vocab_size_ = vocab.get<int64_t>();
  } catch (const std::exception& e) {
    throw Error("{}: corrupt meta.json ({}); prepare the data again", meta_path, e.what());
  }
  if (vocab_size_ <= 0 || vocab_size_ > 65536)
    throw Error("{}: vocab_size {} out of range 1..65536", meta_path, vocab_size_);
  for (auto [split, file, key] :
       {std::tuple{&train_, "train.bin", "train_tokens"}, std::tuple{&val_, "val.bin", "val_tokens"}}) {
    const std::string p = dir + "/" + file;
    if (!fs::exists(p))
      throw Error("{}: missing; prepare the data again with `lmul prepare char|gpt2 --out {}`", p, dir);
    *split = MappedFile(p);
    if (split->size() % 2 != 0) throw Error("{}: odd size {}: not a uint16 token file", p, split->size());
    // A .bin from another (interrupted or older) run than meta.json describes.
    if (meta_.contains(key) && meta_[key].is_number_unsigned() && meta_[key].get<uint64_t>() != split->size() / 2)
      throw Error("{}: {} tokens, but meta.json says {} = {}; prepare the data again", p, split->size() / 2, key,
                  meta_[key].get<uint64_t>());
  }
}

int64_t TokenDataset::tokens(Split s) const {
  return static_cast<int64_t>((s == Split::train ? train_ : val_).size() / 2);
}

void TokenDataset::batch(Split s, int64_t B, int64_t T, Rng& rng, std::vector<int32_t>& x,
                         std::vector<int32_t>& y) const {
  const MappedFile& f = s == Split::train ? train_ : val_;
  const int64_t n = tokens(s);
  if (n <= T)
    throw Error("block_size={} is too large for {}: it has only {} tokens (lower block_size)", T, f.path(), n);
  x.resize(static_cast<size_t>(B * T));
  y.resize(static_cast<size_t>(B * T));
  const uint8_t* d = f.data();
  for (int64_t b = 0; b < B; ++b) {
    const auto i = static_cast<int64_t>(rng.uniform_int(static_cast<uint64_t>(n - T)));
    for (int64_t t = 0; t <= T; ++t) {
      uint16_t v;
      std::memcpy(&v, d + 2 * (i + t), 2);
      if (v >= vocab_size_)
        throw Error("{}: token {} at position {} is ≥ vocab_size {} (data and meta.json disagree)", f.path(), v, i + t,
                    vocab_size_);
      if (t < T) x[static_cast<size_t>(b * T + t)] = v;
      if (t > 0) y[static_cast<size_t>(b * T + t - 1)] = v;
    }
  }
}

}  // namespace lmul::data
