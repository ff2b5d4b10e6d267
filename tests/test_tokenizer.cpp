// The shared Tokenizer interface: load_tokenizer() reads meta.json and gives the gpt2 or the
// char-level tokenizer.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "data/char_tokenizer.h"
#include "tests/gpt2_fixture.h"
#include "tests/temp_dir.h"

using lmul::Error;
using lmul::data::load_tokenizer;
using lmul::test::TempDir;

TEST_SUITE("data.tokenizer") {
  TEST_CASE("meta.json with tokenizer gpt2 loads the BPE from vocab_dir") {
    TempDir d;
    d.write("meta.json", nlohmann::json{{"tokenizer", "gpt2"}, {"vocab_dir", lmul::test::kGpt2Dir}}.dump());
    auto tok = load_tokenizer(d.str());
    CHECK(tok->name() == "gpt2");
    CHECK(tok->vocab_size() == 50257);
    CHECK(tok->encode("Hello world") == std::vector<int>{15496, 995});
    std::vector<int> ids{15496, 995};
    CHECK(tok->decode(ids) == "Hello world");
  }

  TEST_CASE("meta.json with tokenizer char maps each character to its index") {
    TempDir d;
    d.write("meta.json", nlohmann::json{{"tokenizer", "char"}, {"chars", {"\n", " ", "a", "b", "\xC3\xA9"}}}.dump());
    auto tok = load_tokenizer(d.str());
    CHECK(tok->name() == "char");
    CHECK(tok->vocab_size() == 5);
    CHECK(tok->encode("ab \xC3\xA9\n") == std::vector<int>{2, 3, 1, 4, 0});
    std::vector<int> ids{4, 2, 0};
    CHECK(tok->decode(ids) ==
          "\xC3\xA9"
          "a\n");
  }

  TEST_CASE("char encode of an unknown character names it") {
    lmul::data::CharTokenizer tok({"a", "b"});
    CHECK_THROWS_WITH_AS(tok.encode("abz"), doctest::Contains("character \"z\" (U+007A) at byte 2"), Error);
    std::vector<int> bad{2};
    CHECK_THROWS_WITH_AS(tok.decode(bad), doctest::Contains("token id 2"), Error);
  }

  TEST_CASE("a char vocabulary entry that is not one character is an error") {
    CHECK_THROWS_WITH_AS(lmul::data::CharTokenizer({"a", "bc"}), doctest::Contains("entry 1"), Error);
    CHECK_THROWS_WITH_AS(lmul::data::CharTokenizer({"a", "a"}), doctest::Contains("appears twice"), Error);
  }

  TEST_CASE("missing or unknown meta.json keys are named") {
    TempDir d;
    CHECK_THROWS_WITH_AS(load_tokenizer(d.str()), doctest::Contains("meta.json: cannot open"), Error);
    d.write("meta.json", R"({"tokenizer": "sentencepiece"})");
    CHECK_THROWS_WITH_AS(load_tokenizer(d.str()), doctest::Contains("meta.json:tokenizer: \"sentencepiece\""), Error);
    d.write("meta.json", R"({"tokenizer": "gpt2"})");
    CHECK_THROWS_WITH_AS(load_tokenizer(d.str()), doctest::Contains("meta.json:vocab_dir: missing"), Error);
    d.write("meta.json", R"({"tokenizer": "char", "chars": "abc"})");
    CHECK_THROWS_WITH_AS(load_tokenizer(d.str()), doctest::Contains("meta.json:chars: missing"), Error);
    d.write("meta.json", R"({"tokenizer": )");
    CHECK_THROWS_WITH_AS(load_tokenizer(d.str()), doctest::Contains("meta.json: malformed JSON"), Error);
  }

}  // TEST_SUITE
