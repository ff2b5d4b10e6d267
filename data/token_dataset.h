// A prepared data directory: train.bin / val.bin memory-mapped, meta.json read. Batches are
// nanoGPT's get_batch: B random offsets i in [0, n − T), x = data[i:i+T], y = data[i+1:i+T+1].
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/rng.h"
#include "data/mapped_file.h"

namespace lmul::data {

enum class Split { train, val };

class TokenDataset {
 public:
  // Throws lmul::Error naming the missing/corrupt file and how to create it.
  explicit TokenDataset(const std::string& dir);

  int64_t vocab_size() const { return vocab_size_; }
  int64_t tokens(Split s) const;
  const nlohmann::json& meta() const { return meta_; }
  const std::string& dir() const { return dir_; }

  // Fills x and y (B·T ids each). Throws if the split has ≤ T tokens.
  void batch(Split s, int64_t B, int64_t T, Rng& rng, std::vector<int32_t>& x, std::vector<int32_t>& y) const;

 private:
  std::string dir_;
  MappedFile train_, val_;
  nlohmann::json meta_;
  int64_t vocab_size_ = 0;
};

}  // namespace lmul::data
