// GPT-2 BPE vocabulary files: encoder.json (token string -> id) and vocab.bpe (the merges, in
// rank order). Token strings are written in GPT-2's byte-to-unicode alphabet (Ġ = space); loading
// turns every token back into its raw bytes.
#pragma once
#include <array>
#include <string>
#include <vector>

#include "data/bpe_pair_table.h"

namespace lmul::data {

struct BpeVocab {
  std::vector<std::string> token_bytes;  // id -> the exact bytes it stands for
  std::array<int, 256> byte_id{};        // byte -> id of its one-byte token
  BpePairTable pairs;                    // (left, right) -> merged id, which is also the rank
  int eot_id = -1;                       // <|endoftext|>
  std::string dir;                       // where the files were read from

  int size() const { return static_cast<int>(token_bytes.size()); }
};

// Reads DIR/encoder.json and DIR/vocab.bpe. Throws lmul::Error naming the file (and line) when a
// file is missing, is malformed, or the merges disagree with the encoder.
BpeVocab load_bpe_vocab(const std::string& dir);

// GPT-2's bytes_to_unicode(): the printable character each byte is written as in the files.
std::array<char32_t, 256> gpt2_byte_to_unicode();

}  // namespace lmul::data
