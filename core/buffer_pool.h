// A caching allocator for fp32 buffers: a freed buffer goes back to a free list keyed by its size
// and the next step of the same shape gets it again, so the training step does not page-fault on
// fresh activation buffers every iteration (docs/ARCHITECTURE.md §4; PyTorch spent 23 % of its time there).
#pragma once
#include <cstddef>

namespace lmul {

// Returns a 64-byte aligned buffer of n floats (uninitialised). n may be 0.
float* pool_acquire(size_t n);
void pool_release(float* p, size_t n);
// Frees every cached buffer (e.g. after training, before sampling with other shapes).
void pool_trim();
// Bytes currently held by cached (free) buffers and handed out, for memory reports.
size_t pool_cached_bytes();

}  // namespace lmul
