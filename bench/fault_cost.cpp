// What a page fault on fresh memory costs on this machine: the first step of a big model writes
// ~4 GB of buffers nothing has touched yet (GPT-2 124M), and that is the one cost the first step has
// over a steady one. Allocates GIB GiB in 16 MiB blocks and writes one byte per 4 KiB page, then
// the same with each block first faulted in by madvise(MADV_POPULATE_WRITE), and with
// madvise(MADV_HUGEPAGE) on its 2 MiB-aligned interior; rounds interleaved, each in a fresh child
// process (so that no mode reuses pages another one faulted in); prints seconds per GiB and µs per
// 4 KiB page. For comparison, the same writes into memory already faulted in.
// Usage: lmul_fault_bench [GIB=2] [ROUNDS=3]
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace {

constexpr size_t kBlock = size_t{16} << 20, kPage = 4096, kHuge = size_t{2} << 20;
const char* const kModes[] = {"first touch", "MADV_POPULATE_WRITE", "MADV_HUGEPAGE", "touched before"};

void advise(char* p, size_t bytes, size_t align, int advice) {
  const uintptr_t lo = (reinterpret_cast<uintptr_t>(p) + align - 1) / align * align;
  const uintptr_t hi = (reinterpret_cast<uintptr_t>(p) + bytes) / align * align;
  if (hi > lo) madvise(reinterpret_cast<void*>(lo), hi - lo, advice);
}

double seconds_for(int mode, size_t total) {
  std::vector<char*> blocks;
  for (size_t done = 0; done < total; done += kBlock) blocks.push_back(static_cast<char*>(std::malloc(kBlock)));
  if (mode == 3)  // fault everything in first; time the second pass only
    for (char* p : blocks)
      for (size_t i = 0; i < kBlock; i += kPage) p[i] = 1;
  const auto t0 = std::chrono::steady_clock::now();
  for (char* p : blocks) {
    if (mode == 1) advise(p, kBlock, kPage, MADV_POPULATE_WRITE);
    if (mode == 2) advise(p, kBlock, kHuge, MADV_HUGEPAGE);
    for (size_t i = 0; i < kBlock; i += kPage) p[i] = 2;
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  for (char* p : blocks) std::free(p);
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  const double gib = argc > 1 ? std::atof(argv[1]) : 2.0;
  const int rounds = argc > 2 ? std::atoi(argv[2]) : 3;
  if (!(gib > 0) || rounds < 1) {
    std::fprintf(stderr, "usage: %s [GIB=2] [ROUNDS=3]\n", argv[0]);
    return 2;
  }
  const size_t total = static_cast<size_t>(gib * (1 << 30)) / kBlock * kBlock;
  std::vector<std::vector<double>> t(4);
  for (int r = 0; r < rounds; ++r)
    for (int mode = 0; mode < 4; ++mode) {
      int fd[2];
      if (pipe(fd) != 0) return 1;
      const pid_t pid = fork();
      if (pid == 0) {
        const double s = seconds_for(mode, total);
        if (write(fd[1], &s, sizeof s) != sizeof s) _exit(1);
        _exit(0);
      }
      double s = 0;
      if (read(fd[0], &s, sizeof s) != sizeof s) return 1;
      waitpid(pid, nullptr, 0);
      close(fd[0]);
      close(fd[1]);
      t[static_cast<size_t>(mode)].push_back(s);
    }
  const double pages = static_cast<double>(total / kPage), gibs = static_cast<double>(total) / (1 << 30);
  std::printf("%.2f GiB in 16 MiB blocks, %d rounds, medians\n", gibs, rounds);
  for (int mode = 0; mode < 4; ++mode) {
    auto v = t[static_cast<size_t>(mode)];
    std::sort(v.begin(), v.end());
    const double s = v[v.size() / 2];
    std::printf("%-20s %7.2f s/GiB %8.2f us per 4 KiB page\n", kModes[mode], s / gibs, s / pages * 1e6);
  }
}
