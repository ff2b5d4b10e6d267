// The BPE merge table: (left id, right id) -> merged id, an open-addressing hash map on the packed
// pair. Ids are below 2^16 (checked at load), so a slot is 8 bytes and GPT-2's ~108k pairs fit
// in 2 MB, which matters: a cold piece costs a dozen lookups. With GPT-2's ranks a merged token's id is also its merge
// rank (merge i makes id 256 + i), so the lowest merged id is the pair to merge first.
#pragma once
#include <cstdint>
#include <vector>

namespace lmul::data {

class BpePairTable {
 public:
  static constexpr int kNone = -1;
  static constexpr int kMaxIds = 1 << 16;

  BpePairTable() = default;
  // Capacity for at least n pairs at load factor <= 1/2.
  explicit BpePairTable(size_t n) {
    size_t cap = 16;
    while (cap < 2 * n) cap *= 2;
    slots_.assign(cap, Slot{kEmpty, kNone});
    shift_ = 64 - __builtin_ctzll(cap);
  }

  // Inserts or overwrites; left, right < kMaxIds.
  void insert(int left, int right, int merged) {
    uint32_t key = pack(left, right);
    size_t i = index(key);
    while (slots_[i].key != kEmpty && slots_[i].key != key) i = (i + 1) & (slots_.size() - 1);
    if (slots_[i].key == kEmpty) ++size_;
    slots_[i] = Slot{key, merged};
  }

  // The merged id, or kNone when the pair is no merge.
  int find(int left, int right) const {
    if (slots_.empty()) return kNone;
    uint32_t key = pack(left, right);
    size_t i = index(key);
    for (;;) {
      const Slot& s = slots_[i];
      if (s.key == key) return s.merged;
      if (s.key == kEmpty) return kNone;
      i = (i + 1) & (slots_.size() - 1);
    }
  }

  size_t size() const { return size_; }

 private:
  static constexpr uint32_t kEmpty = ~uint32_t{0};
  struct Slot {
    uint32_t key;
    int merged;
  };
  static uint32_t pack(int left, int right) {
    return (static_cast<uint32_t>(left) << 16) | static_cast<uint32_t>(right);
  }
  size_t index(uint32_t key) const { return (key * 0x9E3779B97F4A7C15ull) >> shift_; }

  std::vector<Slot> slots_;
  int shift_ = 64;
  size_t size_ = 0;
};

}  // namespace lmul::data
