#include "core/buffer_pool.h"

#include <cstdlib>
#include <mutex>
#include <new>
#include <unordered_map>
#include <vector>

namespace lmul {

namespace {
struct Pool {
  std::mutex mu;
  std::unordered_map<size_t, std::vector<float*>> free;
  size_t cached_bytes = 0;
  ~Pool() {
    for (auto& [n, v] : free)
      for (float* p : v) std::free(p);
  }
};
Pool& pool() {
  static Pool p;
  return p;
}
size_t padded_bytes(size_t n) { return ((n * sizeof(float) + 63) / 64) * 64; }
}  // namespace

float* pool_acquire(size_t n) {
  if (n == 0) n = 1;
  Pool& p = pool();
  {
    std::lock_guard lock(p.mu);
    auto it = p.free.find(n);
    if (it != p.free.end() && !it->second.empty()) {
      float* b = it->second.back();
      it->second.pop_back();
      p.cached_bytes -= padded_bytes(n);
      return b;
    }
  }
  void* b = std::aligned_alloc(64, padded_bytes(n));
  if (!b) throw std::bad_alloc();
  return static_cast<float*>(b);
}

void pool_release(float* b, size_t n) {
  if (!b) return;
  if (n == 0) n = 1;
  Pool& p = pool();
  std::lock_guard lock(p.mu);
  p.free[n].push_back(b);
  p.cached_bytes += padded_bytes(n);
}

void pool_trim() {
  Pool& p = pool();
  std::lock_guard lock(p.mu);
  for (auto& [n, v] : p.free)
    for (float* b : v) std::free(b);
  p.free.clear();
  p.cached_bytes = 0;
}

size_t pool_cached_bytes() {
  Pool& p = pool();
  std::lock_guard lock(p.mu);
  return p.cached_bytes;
}

}  // namespace lmul
