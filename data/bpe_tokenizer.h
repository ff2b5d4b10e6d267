// GPT-2 byte-level BPE, id for id what tiktoken's "gpt2" encoding gives (reference_tokens.json).
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "data/bpe_vocab.h"
#include "data/tokenizer.h"

namespace lmul::data {

class BpeTokenizer final : public Tokenizer {
 public:
  // Reads VOCAB_DIR/encoder.json and VOCAB_DIR/vocab.bpe (e.g. ../shared/data/gpt2).
  explicit BpeTokenizer(const std::string& vocab_dir);

  // Ordinary encoding (tiktoken encode_ordinary): "<|endoftext|>" in text is plain text.
  std::vector<int> encode(std::string_view text) const override;
  // Appends the ordinary encoding of text to out. Safe to call from many threads at once; each
  // thread keeps its own cache of piece -> ids.
  void encode_into(std::string_view text, std::vector<int>& out) const;
  // "<|endoftext|>" in text becomes eot_id() (tiktoken encode with allowed_special={it}).
  std::vector<int> encode_allow_special(std::string_view text) const;

  std::string decode(std::span<const int> ids) const override;
  int vocab_size() const override { return vocab_.size(); }
  std::string name() const override { return "gpt2"; }

  int eot_id() const { return vocab_.eot_id; }
  const std::string& vocab_dir() const { return vocab_.dir; }
  const BpeVocab& vocab() const { return vocab_; }

 private:
  BpeVocab vocab_;
  uint64_t instance_;  // tells this tokenizer's thread-local cache entries from another's
};

}  // namespace lmul::data
