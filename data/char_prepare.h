// Character-level data preparation (nanoGPT's data/shakespeare_char/prepare.py): the vocabulary
// is the sorted set of characters (Unicode code points) of the text; the first 90 % of the
// characters become train.bin, the rest val.bin, as little-endian uint16 ids; meta.json holds the
// vocabulary.
#pragma once
#include <cstdint>
#include <string>

namespace lmul::data {

struct PrepareSummary {
  int64_t vocab_size = 0, train_tokens = 0, val_tokens = 0;
};

// Throws lmul::Error naming the input on a missing/empty/invalid-UTF-8 file. Writes into out_dir
// (created if needed) through temporary files renamed at the end: nothing half-written.
PrepareSummary prepare_char(const std::string& input, const std::string& out_dir, double val_fraction = 0.1);

}  // namespace lmul::data
