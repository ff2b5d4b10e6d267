// A prepared data directory: train.bin / val.bin, meta.json read. Batches are nanoGPT's
// get_batch: B random offsets i in [0, n − T), x = data[i:i+T], y = data[i+1:i+T+1].
//
// The .bin files are read with pread from descriptors held open, not memory-mapped: a file
// truncated under a running job then gives a short read (a one-line error) instead of SIGBUS on a
// mapped page past its new end. Every batch also checks that the file is the one opened, with the
// size and modification time it had (fstat of the descriptor: rewritten in place; stat of the path:
// replaced by another file): a run never goes on with, nor checkpoints a loader state for, data
// other than the data it started with. The page cache keeps the reads as cheap as the mapping was.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/rng.h"

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

  // Fills x and y (B·T ids each). Throws if the split has ≤ T tokens, and lmul::Error naming the
  // file when it has been truncated, rewritten or replaced since it was opened.
  void batch(Split s, int64_t B, int64_t T, Rng& rng, std::vector<int32_t>& x, std::vector<int32_t>& y) const;

 private:
  // One open .bin file (the descriptor owned) and what it was when opened.
  struct SplitFile {
    SplitFile() = default;
    ~SplitFile();
    SplitFile(SplitFile&& o) noexcept;
    SplitFile& operator=(SplitFile&& o) noexcept;
    std::string path;
    int fd = -1;
    uint64_t size = 0, device = 0, inode = 0;
    int64_t mtime_ns = 0;
  };
  const SplitFile& file(Split s) const { return s == Split::train ? train_ : val_; }
  void check_unchanged(const SplitFile& f) const;

  std::string dir_;
  SplitFile train_, val_;
  nlohmann::json meta_;
  int64_t vocab_size_ = 0;
};

}  // namespace lmul::data
