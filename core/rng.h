// The one seeded generator of a run. Counter-based (SplitMix64 hashing of seed and a counter), so
// that a parallel loop draws the same numbers whatever the thread count, and the whole state is
// two integers that a checkpoint saves.
#pragma once
#include <cstdint>

namespace lmul {

class Rng {
 public:
  explicit Rng(uint64_t seed = 1337) : seed_(seed) {}

  // Reserves n draws; element i of the block is at(offset + i).
  uint64_t take(uint64_t n) {
    uint64_t o = counter_;
    counter_ += n;
    return o;
  }
  uint64_t next_u64() { return at(take(1)); }
  // Uniform integer in [0, n) (n > 0), unbiased by rejection... the bias of a 64-bit modulo is
  // below 2^-40 for the n we draw (< 2^24), so plain modulo is used.
  uint64_t uniform_int(uint64_t n) { return next_u64() % n; }
  // Uniform in [0, 1) with 24 random bits: every value exact in fp32.
  float uniform() { return uniform_at(take(1)); }
  double normal();  // Box–Muller, standard normal

  uint64_t at(uint64_t i) const { return mix(seed_ * 0x9E3779B97F4A7C15ull + i); }
  float uniform_at(uint64_t i) const { return static_cast<float>(at(i) >> 40) * 0x1.0p-24f; }

  uint64_t seed() const { return seed_; }
  uint64_t counter() const { return counter_; }
  void set_state(uint64_t seed, uint64_t counter) {
    seed_ = seed;
    counter_ = counter;
  }

  static uint64_t mix(uint64_t z) {
    z += 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }

 private:
  uint64_t seed_;
  uint64_t counter_ = 0;
};

}  // namespace lmul
