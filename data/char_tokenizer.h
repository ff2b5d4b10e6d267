// Character-level tokenizer (nanoGPT shakespeare_char): the vocabulary is a list of characters,
// sorted by code point; a character's id is its index.
#pragma once
#include <string>
#include <unordered_map>
#include <vector>

#include "data/tokenizer.h"

namespace lmul::data {

class CharTokenizer final : public Tokenizer {
 public:
  // chars: one UTF-8 character per string, all distinct. Throws lmul::Error otherwise.
  explicit CharTokenizer(std::vector<std::string> chars);

  // Throws lmul::Error naming the first character that is not in the vocabulary.
  std::vector<int> encode(std::string_view text) const override;
  std::string decode(std::span<const int> ids) const override;
  int vocab_size() const override { return static_cast<int>(chars_.size()); }
  std::string name() const override { return "char"; }

 private:
  std::vector<std::string> chars_;
  std::unordered_map<int32_t, int> id_of_;  // code point -> id
};

}  // namespace lmul::data
