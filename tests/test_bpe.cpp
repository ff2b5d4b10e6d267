// GPT-2 BPE against tiktoken's ids (reference_tokens.json) and the published corpus counts.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "data/bpe_pretokenize.h"
#include "tests/gpt2_fixture.h"

using lmul::test::gpt2;
using lmul::test::slurp;

TEST_SUITE("data.bpe") {
  TEST_CASE("every case of reference_tokens.json encodes to tiktoken's ids and decodes back") {
    auto ref = nlohmann::json::parse(slurp(lmul::test::kGpt2Dir + "/reference_tokens.json"));
    REQUIRE(ref["cases"].size() >= 16);
    for (const auto& c : ref["cases"]) {
      const std::string name = c["name"], text = c["text"], mode = c["mode"];
      const std::vector<int> want = c["ids"].get<std::vector<int>>();
      CAPTURE(name);
      std::vector<int> got = mode == "allow_special" ? gpt2().encode_allow_special(text) : gpt2().encode(text);
      CHECK(got == want);
      CHECK(gpt2().decode(got) == text);
    }
  }

  TEST_CASE("the vocabulary has 50257 tokens with <|endoftext|> = 50256") {
    CHECK(gpt2().vocab_size() == 50257);
    CHECK(gpt2().eot_id() == 50256);
    CHECK(gpt2().vocab().pairs.size() >= 50000);
  }

  TEST_CASE("<|endoftext|> is plain text in ordinary encoding and 50256 with special tokens allowed") {
    auto plain = gpt2().encode("a<|endoftext|>b");
    auto special = gpt2().encode_allow_special("a<|endoftext|>b");
    CHECK(std::find(plain.begin(), plain.end(), 50256) == plain.end());
    REQUIRE(special.size() == 3);
    CHECK(special[1] == 50256);
    CHECK(gpt2().decode(special) == "a<|endoftext|>b");
    CHECK(gpt2().encode_allow_special("<|endoftext|><|endoftext|>") == std::vector<int>{50256, 50256});
  }

  TEST_CASE("Tiny Shakespeare is 338,025 tokens, and 301,966 + 36,059 split at 90% of characters") {
    std::string text = slurp(std::string(LMUL_SHARED_DIR) + "/data/tinyshakespeare/input.txt");
    REQUIRE(text.size() == 1115394);
    CHECK(gpt2().encode(text).size() == 338025);
    size_t cut = static_cast<size_t>(text.size() * 0.9);  // ASCII: characters == bytes
    CHECK(gpt2().encode(std::string_view(text).substr(0, cut)).size() == 301966);
    CHECK(gpt2().encode(std::string_view(text).substr(cut)).size() == 36059);
  }

  TEST_CASE("the OpenWebText sample is 113,570 tokens and round-trips") {
    std::string text = slurp(std::string(LMUL_SHARED_DIR) + "/data/owt_sample/openwebtext_hf_first100.txt");
    REQUIRE(text.size() == 505978);
    auto ids = gpt2().encode(text);
    CHECK(ids.size() == 113570);
    CHECK(gpt2().decode(ids) == text);
  }

  TEST_CASE("decode names the id that is outside the vocabulary") {
    std::vector<int> ids{15496, 50257};
    CHECK_THROWS_WITH_AS(gpt2().decode(ids), doctest::Contains("token id 50257"), lmul::Error);
    std::vector<int> neg{-1};
    CHECK_THROWS_WITH_AS(gpt2().decode(neg), doctest::Contains("token id -1"), lmul::Error);
  }

  TEST_CASE("pre-tokenizer: whitespace before a word leaves its last space to the word") {
    std::vector<std::string> pieces;
    lmul::data::for_each_pretoken(
        "a   b\n\nc \xC2\xA0"
        "d  ",
        [&](std::string_view p) { pieces.emplace_back(p); });
    // "\xC2\xA0" (no-break space) is White_Space: the run " \xC2\xA0" gives back only its last
    // character, which is not a plain space and so stands alone before "d".
    CHECK(pieces == std::vector<std::string>{"a", "  ", " b", "\n", "\n", "c", " ", "\xC2\xA0", "d", "  "});
  }

  TEST_CASE("pre-tokenizer: White_Space decides, so U+0085 is whitespace and U+FEFF, U+200B are not") {
    std::vector<std::string> pieces;
    lmul::data::for_each_pretoken(
        "a\xC2\x85"
        "b \xEF\xBB\xBF"
        "c\xE2\x80\x8B"
        "d",
        [&](std::string_view p) { pieces.emplace_back(p); });
    CHECK(pieces == std::vector<std::string>{"a", "\xC2\x85", "b", " \xEF\xBB\xBF", "c", "\xE2\x80\x8B", "d"});
  }

  TEST_CASE("pre-tokenizer: contractions are case-sensitive and come before other runs") {
    std::vector<std::string> pieces;
    lmul::data::for_each_pretoken("it's IT'S 'll''d", [&](std::string_view p) { pieces.emplace_back(p); });
    CHECK(pieces == std::vector<std::string>{"it", "'s", " IT", "'", "S", " '", "ll", "''", "d"});
  }

}  // TEST_SUITE
