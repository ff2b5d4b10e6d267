// GPT-2 BPE decoding of arbitrary ids (the input read as little-endian int32s: negative and huge ids
// included), as `lmul tokenize --decode` and sampling decode them.
// Property: ids inside the vocabulary decode to their tokens' bytes, in order; any other id is an
// lmul::Error.
#include <cstring>

#include "fuzz/bpe_mini.h"
#include "fuzz/fuzz_input.h"

using namespace lmul;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto& tok = fuzz::gpt2_mini();
  std::vector<int> ids(size / 4);
  if (!ids.empty()) std::memcpy(ids.data(), data, ids.size() * 4);
  bool in_vocab = true;
  std::string expected;
  for (int id : ids) {
    if (id < 0 || id >= tok.vocab_size()) {
      in_vocab = false;
      break;
    }
    expected += tok.vocab().token_bytes[static_cast<size_t>(id)];
  }
  bool threw = false;
  fuzz::expect_clean([&] {
    threw = true;
    const std::string text = tok.decode(ids);
    threw = false;
    if (text != expected) fuzz::fail("decode differs from the concatenated token bytes");
  });
  if (threw == in_vocab)
    fuzz::fail(in_vocab ? "decode threw on ids inside the vocabulary" : "decode took an id outside the vocabulary");
  return 0;
}
