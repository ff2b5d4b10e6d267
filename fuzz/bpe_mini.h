// The GPT-2 tokenizer of the BPE fuzz targets: fuzz/data/gpt2_mini, GPT-2's own files cut to the
// first 1000 merges (ids 0..1255, <|endoftext|> = 1256), so that a target starts in milliseconds and
// needs nothing outside the repository. Encoding goes through the same pretokenizer and merge code
// whatever the vocabulary's size.
#pragma once
#include "data/bpe_tokenizer.h"

namespace lmul::fuzz {

inline const data::BpeTokenizer& gpt2_mini() {
  static const data::BpeTokenizer tok(LMUL_FUZZ_DATA_DIR "/gpt2_mini");
  return tok;
}

}  // namespace lmul::fuzz
