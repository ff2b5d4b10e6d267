#include "data/document_split.h"

#include <cmath>

#include "core/error.h"

namespace lmul::data {

uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

DocumentSplit::DocumentSplit(double val_fraction, uint64_t seed)
    : f_(static_cast<uint64_t>(std::llround(val_fraction * 4294967296.0))), seed_hash_(splitmix64(seed)) {
  LMUL_ASSERT(val_fraction >= 0 && val_fraction < 1);
}

uint64_t DocumentSplit::block_start(uint64_t k) const {
  const unsigned __int128 num = static_cast<unsigned __int128>(k) << 32;
  return static_cast<uint64_t>((num + f_ - 1) / f_);
}

bool DocumentSplit::is_val(uint64_t i) {
  if (f_ == 0) return false;
  const uint64_t k = static_cast<uint64_t>((static_cast<unsigned __int128>(i) * f_) >> 32);
  if (!started_ || k != block_) {
    const uint64_t start = block_start(k), length = block_start(k + 1) - start;
    block_ = k;
    pick_ = start + splitmix64(seed_hash_ + k) % length;
    started_ = true;
  }
  return i == pick_;
}

}  // namespace lmul::data
