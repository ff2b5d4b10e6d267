// Loading encoder.json + vocab.bpe: a tiny consistent vocabulary works; every kind of broken file
// is one lmul::Error naming that file.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "data/bpe_tokenizer.h"
#include "tests/temp_dir.h"

using lmul::Error;
using lmul::data::BpeTokenizer;
using lmul::test::TempDir;

namespace {

std::string utf8(char32_t cp) {
  std::string s;
  if (cp < 0x80)
    s += static_cast<char>(cp);
  else
    s += static_cast<char>(0xC0 | (cp >> 6)), s += static_cast<char>(0x80 | (cp & 0x3F));
  return s;
}

// 256 byte tokens (id = byte), then "ab" (256) from merge "a b", "abc" (257) from "ab c",
// then <|endoftext|> (258).
nlohmann::json tiny_encoder() {
  auto b2u = lmul::data::gpt2_byte_to_unicode();
  nlohmann::json enc = nlohmann::json::object();
  for (int b = 0; b < 256; ++b) enc[utf8(b2u[b])] = b;
  enc["ab"] = 256;
  enc["abc"] = 257;
  enc["<|endoftext|>"] = 258;
  return enc;
}
const std::string kTinyMerges = "#version: 0.2\na b\nab c\n";

void write_vocab(const TempDir& d, const std::string& encoder, const std::string& merges) {
  d.write("encoder.json", encoder);
  d.write("vocab.bpe", merges);
}

}  // namespace

TEST_SUITE("data.bpe") {
  TEST_CASE("a tiny consistent vocabulary loads and merges by rank") {
    TempDir d;
    write_vocab(d, tiny_encoder().dump(), kTinyMerges);
    BpeTokenizer tok(d.str());
    CHECK(tok.vocab_size() == 259);
    CHECK(tok.eot_id() == 258);
    CHECK(tok.encode("abc abd") == std::vector<int>{257, ' ', 256, 'd'});  // no " a" or "abd" merge
    CHECK(tok.encode_allow_special("ab<|endoftext|>") == std::vector<int>{256, 258});
  }

  TEST_CASE("a missing vocabulary directory names encoder.json") {
    TempDir d;
    CHECK_THROWS_WITH_AS(BpeTokenizer(d / "nowhere"), doctest::Contains("nowhere/encoder.json: cannot open"), Error);
  }

  TEST_CASE("a missing vocab.bpe is named") {
    TempDir d;
    d.write("encoder.json", tiny_encoder().dump());
    CHECK_THROWS_WITH_AS(BpeTokenizer(d.str()), doctest::Contains("vocab.bpe: cannot open"), Error);
  }

  TEST_CASE("malformed encoder.json is named") {
    TempDir d;
    write_vocab(d, "{\"a\": 0,", kTinyMerges);
    CHECK_THROWS_WITH_AS(BpeTokenizer(d.str()), doctest::Contains("encoder.json: malformed JSON"), Error);
  }

  TEST_CASE("encoder.json with a duplicate or out-of-range id is named") {
    TempDir d;
    auto enc = tiny_encoder();
    enc["abc"] = 256;
    write_vocab(d, enc.dump(), kTinyMerges);
    CHECK_THROWS_WITH_AS(BpeTokenizer(d.str()), doctest::Contains("encoder.json: token \"abc\" has id 256"), Error);
  }

  TEST_CASE("encoder.json without <|endoftext|> is named") {
    TempDir d;
    auto enc = tiny_encoder();
    enc.erase("<|endoftext|>");
    write_vocab(d, enc.dump(), kTinyMerges);
    CHECK_THROWS_WITH_AS(BpeTokenizer(d.str()), doctest::Contains("encoder.json: no \"<|endoftext|>\""), Error);
  }

  TEST_CASE("a merge naming an unknown token is named with its line") {
    TempDir d;
    write_vocab(d, tiny_encoder().dump(), "#version: 0.2\na b\nab x\n");
    CHECK_THROWS_WITH_AS(BpeTokenizer(d.str()), doctest::Contains("vocab.bpe:3: merge \"ab x\""), Error);
  }

  TEST_CASE("merges out of rank order are inconsistent") {
    TempDir d;
    auto enc = tiny_encoder();
    enc["ac"] = 257;  // "ab c" (merge #1) would make 258, not 257
    enc["abc"] = 258;
    enc["<|endoftext|>"] = 259;
    write_vocab(d, enc.dump(), "#version: 0.2\na b\nab c\na c\n");
    CHECK_THROWS_WITH_AS(BpeTokenizer(d.str()), doctest::Contains("vocab.bpe:3: merge #1 makes token id 258"), Error);
  }

  TEST_CASE("a merge line without two tokens is named") {
    TempDir d;
    write_vocab(d, tiny_encoder().dump(), "#version: 0.2\na b\nabc\n");
    CHECK_THROWS_WITH_AS(BpeTokenizer(d.str()), doctest::Contains("vocab.bpe:3: expected two tokens"), Error);
  }

  TEST_CASE("fewer merges than encoder tokens is inconsistent") {
    TempDir d;
    write_vocab(d, tiny_encoder().dump(), "#version: 0.2\na b\n");
    CHECK_THROWS_WITH_AS(BpeTokenizer(d.str()), doctest::Contains("vocab.bpe: 1 merges"), Error);
  }

  TEST_CASE("error messages are one line") {
    TempDir d;
    write_vocab(d, "{\n\"a\":\n", kTinyMerges);
    try {
      BpeTokenizer tok(d.str());
      FAIL("no error");
    } catch (const Error& e) {
      CHECK(std::string(e.what()).find('\n') == std::string::npos);
    }
  }

}  // TEST_SUITE
