// GPT-2 BPE encoding of arbitrary bytes (invalid UTF-8 included), ordinary and with <|endoftext|>
// allowed. Property: decode(encode(x)) == x, byte for byte, and every id is in the vocabulary.
#include "fuzz/bpe_mini.h"
#include "fuzz/fuzz_input.h"

using namespace lmul;

namespace {
void check_round_trip(const std::vector<int>& ids, std::string_view text, const char* how) {
  const auto& tok = fuzz::gpt2_mini();
  for (int id : ids)
    if (id < 0 || id >= tok.vocab_size()) fuzz::fail(fmt::format("{}: id {} outside the vocabulary", how, id));
  if (tok.decode(ids) != text) fuzz::fail(fmt::format("{}: decode(encode(x)) != x for {} bytes", how, text.size()));
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto& tok = fuzz::gpt2_mini();
  fuzz::expect_clean([&] {
    check_round_trip(tok.encode(text), text, "encode");
    std::vector<int> appended = {tok.eot_id()};
    tok.encode_into(text, appended);
    appended.erase(appended.begin());
    check_round_trip(appended, text, "encode_into");
    check_round_trip(tok.encode_allow_special(text), text, "encode_allow_special");
  });
  return 0;
}
