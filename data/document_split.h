// Which documents go to val.bin, decided in one pass without knowing how many documents there
// are (an archive is not counted before it is read): stratified sampling, one val document per
// block of about 1/F documents.
//
// With f = round(F · 2^32), document i (0-based, in input order) lies in block k = ⌊i·f / 2^32⌋;
// block k holds the documents i with ⌈k·2^32 / f⌉ ≤ i < ⌈(k+1)·2^32 / f⌉, and its val document is
// the one at offset SplitMix64(SplitMix64(seed) + k) mod (block length). So N documents give
// ⌊N·F⌋ or ⌈N·F⌉ val documents (the last, partial block has its pick with probability equal to the
// part present), spread evenly over the corpus, fixed by (F, seed) alone — not by the thread
// count, batch size, or how the documents are packaged. F = 0: no val documents.
//
// Not nanoGPT's documents: nanoGPT's openwebtext/prepare.py takes HF datasets'
// train_test_split(test_size=0.0005, seed=2357), a numpy permutation of all 8,013,769 documents
// (⌈N·F⌉ = 4,007 val), which needs N up front and numpy's PCG64 stream. The counts agree (this rule
// gives 4,006 or 4,007 at the same N), the documents do not.
#pragma once
#include <cstdint>

namespace lmul::data {

class DocumentSplit {
 public:
  DocumentSplit(double val_fraction, uint64_t seed);
  // Whether document i is val; i must be 0, 1, 2, ... in turn.
  bool is_val(uint64_t i);

 private:
  uint64_t block_start(uint64_t k) const;  // ⌈k·2^32 / f⌉

  uint64_t f_;
  uint64_t seed_hash_;
  uint64_t block_ = 0, pick_ = 0;  // the current block and its val document
  bool started_ = false;
};

uint64_t splitmix64(uint64_t x);

}  // namespace lmul::data
