// Counter-based random bits for stochastic rounding: the bits of element i of the n-th quantize
// call are a hash of (seed, n, i), so results depend on the seed and the call sequence only, not on
// the thread count or the order in which threads visit elements (Salmon et al. 2011, "Parallel
// random numbers: as easy as 1, 2, 3" — here with the SplitMix64 finaliser as the hash).
#pragma once
#include <cstdint>

namespace lmul::arith {

// SplitMix64's output function (Steele, Lea & Flood 2014): a bijective 64-bit mixer.
inline uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// 32 random bits for element i of the stream named key.
inline uint32_t random_bits(uint64_t key, uint64_t i) {
  return static_cast<uint32_t>(mix64(key + i * 0x9E3779B97F4A7C15ull) >> 32);
}

// One generator per Multiplier: every quantize call draws a fresh stream key. The call counter is
// the whole state (saved by state()/set_state() of the formats that round stochastically).
class CounterStream {
 public:
  explicit CounterStream(uint64_t seed = 0) : seed_(seed) {}
  uint64_t next_key() { return mix64(mix64(seed_) ^ mix64(++calls_ * 0xD1B54A32D192ED03ull)); }
  uint64_t calls() const { return calls_; }
  void set_calls(uint64_t calls) { calls_ = calls; }

 private:
  uint64_t seed_;
  uint64_t calls_ = 0;
};

}  // namespace lmul::arith
