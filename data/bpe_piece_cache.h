// Piece -> ids cache for the BPE encoder (one per thread): open addressing on a power-of-two
// table of 16-byte slots; keys and ids live in two arenas. It replaced std::unordered_map, whose
// prime-modulo bucket index and scattered nodes cost ~40 % of a warm encode.
#pragma once
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace lmul::data {

class BpePieceCache {
 public:
  // Pieces longer than this are not cached (rare, and they would crowd the arenas).
  static constexpr size_t kMaxPiece = 64;
  // Past this many pieces the cache starts over, bounding memory per thread (~20 MB).
  static constexpr size_t kMaxEntries = size_t{1} << 18;

  BpePieceCache() { clear(); }

  void clear() {
    slots_.assign(kInitialSlots, Slot{});
    keys_.clear();
    ids_.clear();
    size_ = 0;
  }

  static uint64_t hash(std::string_view s) {
    // 8 bytes at a time, multiply-xorshift mixing (splitmix64 finaliser at the end).
    uint64_t h = 0x9E3779B97F4A7C15ull ^ s.size();
    size_t i = 0;
    for (; i + 8 <= s.size(); i += 8) {
      uint64_t w;
      std::memcpy(&w, s.data() + i, 8);
      h = (h ^ w) * 0xBF58476D1CE4E5B9ull;
      h ^= h >> 31;
    }
    if (i < s.size()) {
      uint64_t w = 0;
      std::memcpy(&w, s.data() + i, s.size() - i);
      h = (h ^ w) * 0xBF58476D1CE4E5B9ull;
    }
    h ^= h >> 29;
    h *= 0x94D049BB133111EBull;
    return h ^ (h >> 32);
  }

  // The cached ids of piece (count in n), or nullptr.
  const int* find(std::string_view piece, uint64_t h, uint32_t& n) const {
    const uint32_t t = tag(h);
    for (size_t i = h & (slots_.size() - 1);; i = (i + 1) & (slots_.size() - 1)) {
      const Slot& s = slots_[i];
      if (s.tag == 0) return nullptr;
      if (s.tag == t && s.key_len == piece.size() &&
          std::memcmp(keys_.data() + s.key_off, piece.data(), piece.size()) == 0) {
        n = s.n_ids;
        return ids_.data() + s.ids_off;
      }
    }
  }

  // Adds piece (not yet cached, size <= kMaxPiece) with its ids.
  void insert(std::string_view piece, uint64_t h, const int* ids, uint32_t n) {
    if (size_ >= kMaxEntries) clear();
    if (2 * (size_ + 1) > slots_.size()) grow();
    Slot s{tag(h), static_cast<uint32_t>(keys_.size()), static_cast<uint32_t>(ids_.size()),
           static_cast<uint16_t>(piece.size()), static_cast<uint16_t>(n)};
    keys_.append(piece);
    ids_.insert(ids_.end(), ids, ids + n);
    place(s, h);
    ++size_;
  }

 private:
  static constexpr size_t kInitialSlots = 1 << 12;
  struct Slot {
    uint32_t tag = 0;  // high hash bits, never 0 in a used slot
    uint32_t key_off = 0, ids_off = 0;
    uint16_t key_len = 0, n_ids = 0;
  };
  static uint32_t tag(uint64_t h) { return static_cast<uint32_t>(h >> 32) | 1u; }

  void place(const Slot& s, uint64_t h) {
    size_t i = h & (slots_.size() - 1);
    while (slots_[i].tag != 0) i = (i + 1) & (slots_.size() - 1);
    slots_[i] = s;
  }

  void grow() {
    std::vector<Slot> old(2 * slots_.size());
    old.swap(slots_);
    for (const Slot& s : old)
      if (s.tag != 0) place(s, hash(std::string_view(keys_.data() + s.key_off, s.key_len)));
  }

  std::vector<Slot> slots_;
  std::string keys_;
  std::vector<int> ids_;
  size_t size_ = 0;
};

}  // namespace lmul::data
