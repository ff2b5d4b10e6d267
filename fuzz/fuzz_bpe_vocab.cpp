// The GPT-2 vocabulary loaders: encoder.json and vocab.bpe. Input: encoder.json, then after a "%%"
// line vocab.bpe. Property: a vocabulary that loads encodes and decodes a sample text back to itself
// (the pair table built from the files is consistent with them).
#include <filesystem>

#include "data/bpe_tokenizer.h"
#include "fuzz/fuzz_input.h"

using namespace lmul;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string dir = [] {
    std::filesystem::create_directories(fuzz::scratch() / "vocab");
    return fuzz::scratch() / "vocab";
  }();
  const auto parts = fuzz::split_parts(data, size, 2);
  fuzz::write_file("vocab/encoder.json", parts[0]);
  fuzz::write_file("vocab/vocab.bpe", parts[1]);
  fuzz::expect_clean([&] {
    const data::BpeTokenizer tok(dir);
    const std::string sample =
        "First Citizen:\nBefore we proceed any further, hear me speak. 123 <|endoftext|> \xc3\xa9\xff";
    if (tok.decode(tok.encode(sample)) != sample) fuzz::fail("a loaded vocabulary does not round-trip the sample");
    if (tok.decode(tok.encode_allow_special(sample)) != sample) fuzz::fail("encode_allow_special does not round-trip");
  });
  return 0;
}
