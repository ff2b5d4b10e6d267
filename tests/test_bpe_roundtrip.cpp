// Properties of the GPT-2 BPE that hold for any input: exact round trip for arbitrary bytes, the
// two merge algorithms agree, safe split points change nothing, threads change nothing.
#include <doctest/doctest.h>

#include <random>

#include "data/bpe_merge.h"
#include "data/bpe_pretokenize.h"
#include "tests/gpt2_fixture.h"

using lmul::test::gpt2;

namespace {

void append_utf8(std::string& s, char32_t cp) {
  if (cp < 0x80)
    s += static_cast<char>(cp);
  else if (cp < 0x800)
    s += static_cast<char>(0xC0 | (cp >> 6)), s += static_cast<char>(0x80 | (cp & 0x3F));
  else if (cp < 0x10000)
    s += static_cast<char>(0xE0 | (cp >> 12)), s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F)),
        s += static_cast<char>(0x80 | (cp & 0x3F));
  else
    s += static_cast<char>(0xF0 | (cp >> 18)), s += static_cast<char>(0x80 | ((cp >> 12) & 0x3F)),
        s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F)), s += static_cast<char>(0x80 | (cp & 0x3F));
}

// Text mixing ASCII words and spaces, contractions, Unicode letters, digits, whitespace of all
// kinds, emoji, and (when invalid is set) stray bytes that are not UTF-8.
std::string random_text(std::mt19937& rng, size_t n_chars, bool invalid) {
  static const char32_t kPool[] = {' ',    ' ',    ' ',    '\n',    '\t',    '\r',   0x0B,   0x0C,  0x85,    0xA0,
                                   0x2028, 0x3000, 0xFEFF, '\'',    's',     't',    'l',    'e',   'A',     'Z',
                                   '0',    '7',    '.',    '!',     '_',     0xE9,   0x3B1,  0x416, 0x5D0,   0x627,
                                   0x4E2D, 0xFF21, 0xFF11, 0x1F600, 0x1F1FA, 0x200D, 0x2163, 0xB2,  0x10400, 0xAD};
  std::uniform_int_distribution<size_t> pick(0, std::size(kPool) - 1);
  std::uniform_int_distribution<int> byte(0, 255), coin(0, 19);
  std::string s;
  for (size_t i = 0; i < n_chars; ++i) {
    if (invalid && coin(rng) == 0)
      s += static_cast<char>(byte(rng) | 0x80);
    else
      append_utf8(s, kPool[pick(rng)]);
  }
  return s;
}

}  // namespace

TEST_SUITE("data.bpe") {
  TEST_CASE("decode(encode(x)) == x for random bytes, random UTF-8 and broken UTF-8") {
    std::mt19937 rng(1234);
    std::uniform_int_distribution<int> byte(0, 255);
    std::uniform_int_distribution<size_t> len(0, 600);
    for (int trial = 0; trial < 300; ++trial) {
      std::string x;
      if (trial % 3 == 0) {
        x.resize(len(rng));
        for (char& c : x) c = static_cast<char>(byte(rng));
      } else {
        x = random_text(rng, len(rng), trial % 3 == 2);
      }
      CAPTURE(trial);
      auto ids = gpt2().encode(x);
      REQUIRE(gpt2().decode(ids) == x);
      REQUIRE(gpt2().decode(gpt2().encode_allow_special(x)) == x);
    }
  }

  TEST_CASE("an invalid UTF-8 byte is an 'other' character: it splits letters and joins punctuation") {
    std::vector<std::string> pieces;
    lmul::data::for_each_pretoken(
        "ab\xFF"
        "cd \xC3!?\xE2\x82",
        [&](std::string_view p) { pieces.emplace_back(p); });
    CHECK(pieces == std::vector<std::string>{"ab", "\xFF", "cd", " \xC3!?\xE2\x82"});
  }

  TEST_CASE("the heap merge gives the scan merge's ids, on short, long and repetitive pieces") {
    std::mt19937 rng(99);
    const auto& v = gpt2().vocab();
    std::vector<std::string> pieces = {std::string(5000, 'a'), std::string(3001, ' '), "x",
                                       std::string(777, '-') + "==", "ab"};
    for (int i = 0; i < 200; ++i) pieces.push_back(random_text(rng, 1 + i % 150, i % 2));
    for (int i = 0; i < 100; ++i) {  // letters only, so the pieces look like long words
      std::string w;
      for (int k = 0; k < 10 + i * 3; ++k) w += "etaoinshrdlu"[rng() % 12];
      pieces.push_back(w);
    }
    for (const auto& p : pieces) {
      std::vector<int> scan, heap;
      lmul::data::bpe_merge_scan(p, v, scan);
      lmul::data::bpe_merge_heap(p, v, heap);
      REQUIRE(scan == heap);
    }
  }

  TEST_CASE("a very long word (1 MB of letters) encodes and round-trips") {
    std::string w(1 << 20, 'q');
    for (size_t i = 0; i < w.size(); i += 7) w[i] = 'u';
    auto ids = gpt2().encode(w);
    CHECK(ids.size() < w.size() * 3 / 4);  // pairs did merge
    CHECK(gpt2().decode(ids) == w);
  }

  TEST_CASE("encoding chunks cut at safe split points gives the ids of the whole text") {
    std::mt19937 rng(7);
    std::vector<std::string> texts = {
        lmul::test::slurp(std::string(LMUL_SHARED_DIR) + "/data/owt_sample/openwebtext_hf_first100.txt")
            .substr(0, 200000)};
    for (int i = 0; i < 30; ++i) texts.push_back(random_text(rng, 3000, i % 2));
    for (const auto& t : texts) {
      auto whole = gpt2().encode(t);
      std::vector<int> joined;
      size_t start = 0, n_chunks = 0;
      while (start < t.size()) {
        size_t end = lmul::data::pretoken_safe_split(t, start + 1 + rng() % 500);
        gpt2().encode_into(std::string_view(t).substr(start, end - start), joined);
        start = end;
        ++n_chunks;
      }
      CHECK(n_chunks > 1);
      REQUIRE(joined == whole);
    }
  }

  TEST_CASE("encoding from several threads at once gives the single-thread ids") {
    std::string t = lmul::test::slurp(std::string(LMUL_SHARED_DIR) + "/data/owt_sample/openwebtext_hf_first100.txt");
    auto whole = gpt2().encode(t);
    constexpr int kParts = 16;
    std::vector<size_t> cut(kParts + 1, t.size());
    cut[0] = 0;
    for (int i = 1; i < kParts; ++i)
      cut[i] = lmul::data::pretoken_safe_split(t, std::max(cut[i - 1], t.size() * i / kParts));
    std::vector<std::vector<int>> parts(kParts);
#pragma omp parallel for schedule(dynamic, 1) num_threads(4)
    for (int i = 0; i < kParts; ++i) parts[i] = gpt2().encode(std::string_view(t).substr(cut[i], cut[i + 1] - cut[i]));
    std::vector<int> joined;
    for (const auto& p : parts) joined.insert(joined.end(), p.begin(), p.end());
    CHECK(joined == whole);
  }

}  // TEST_SUITE
