// The per-thread piece -> ids cache: finds what was inserted, nothing else, across growth and
// the start-over at kMaxEntries.
#include <doctest/doctest.h>

#include <string>

#include "data/bpe_piece_cache.h"

using lmul::data::BpePieceCache;

TEST_SUITE("data.bpe") {
  TEST_CASE("the piece cache returns each piece's own ids through growth, and nothing for others") {
    BpePieceCache c;
    constexpr int kN = 20000;  // several doublings from 4096 slots
    for (int i = 0; i < kN; ++i) {
      std::string key = "piece" + std::to_string(i);
      int ids[3] = {i, i + 1, i % 7};
      c.insert(key, BpePieceCache::hash(key), ids, 1 + i % 3);
    }
    for (int i = 0; i < kN; ++i) {
      std::string key = "piece" + std::to_string(i);
      uint32_t n = 0;
      const int* ids = c.find(key, BpePieceCache::hash(key), n);
      REQUIRE(ids != nullptr);
      REQUIRE(n == static_cast<uint32_t>(1 + i % 3));
      CHECK(ids[0] == i);
      if (n > 1) CHECK(ids[1] == i + 1);
    }
    uint32_t n = 0;
    CHECK(c.find("piece20000", BpePieceCache::hash("piece20000"), n) == nullptr);
    CHECK(c.find("piece1x", BpePieceCache::hash("piece1x"), n) == nullptr);
    CHECK(c.find("", BpePieceCache::hash(""), n) == nullptr);
  }

  TEST_CASE("the piece cache starts over once it holds kMaxEntries pieces") {
    BpePieceCache c;
    int id = 1;
    for (size_t i = 0; i < BpePieceCache::kMaxEntries; ++i) {
      std::string key = std::to_string(i);
      c.insert(key, BpePieceCache::hash(key), &id, 1);
    }
    uint32_t n = 0;
    CHECK(c.find("0", BpePieceCache::hash("0"), n) != nullptr);
    c.insert("new", BpePieceCache::hash("new"), &id, 1);
    CHECK(c.find("0", BpePieceCache::hash("0"), n) == nullptr);
    CHECK(c.find("new", BpePieceCache::hash("new"), n) != nullptr);
  }

  TEST_CASE("the piece hash differs for keys that differ only past 8 bytes or in length") {
    CHECK(BpePieceCache::hash("abcdefgh1") != BpePieceCache::hash("abcdefgh2"));
    CHECK(BpePieceCache::hash("a") != BpePieceCache::hash(std::string("a\0", 2)));
  }

}  // TEST_SUITE
