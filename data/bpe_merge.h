// Byte-pair merging of one pre-tokenizer piece, as tiktoken does it: start from one token per
// byte, repeatedly merge the adjacent pair whose merged token has the lowest rank (leftmost on a
// tie) until no adjacent pair is a token. Two versions that give the same ids: a quadratic scan,
// fastest for the short pieces of ordinary text, and a heap, O(n log n) for long pieces.
#pragma once
#include <string_view>
#include <vector>

#include "data/bpe_vocab.h"

namespace lmul::data {

// Pieces longer than this (bytes) use the heap version.
inline constexpr size_t kBpeHeapThreshold = 128;

void bpe_merge_scan(std::string_view piece, const BpeVocab& v, std::vector<int>& out);
void bpe_merge_heap(std::string_view piece, const BpeVocab& v, std::vector<int>& out);

// Appends the ids of piece to out, choosing the version by length.
inline void bpe_merge(std::string_view piece, const BpeVocab& v, std::vector<int>& out) {
  if (piece.size() > kBpeHeapThreshold)
    bpe_merge_heap(piece, v, out);
  else
    bpe_merge_scan(piece, v, out);
}

}  // namespace lmul::data
