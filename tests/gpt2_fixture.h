// The GPT-2 tokenizer read once from ../shared/data/gpt2 and shared by the data tests.
#pragma once
#include <fstream>
#include <sstream>
#include <string>

#include "data/bpe_tokenizer.h"

namespace lmul::test {

inline const std::string kGpt2Dir = std::string(LMUL_SHARED_DIR) + "/data/gpt2";

inline const data::BpeTokenizer& gpt2() {
  static const data::BpeTokenizer tok(kGpt2Dir);
  return tok;
}

inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace lmul::test
