// Time of one training batch read from a prepared dataset (TokenDataset::batch: B windows of T+1
// tokens by pread, with the check that the file is unchanged), for RELIABILITY.md.
// Usage: lmul_batch_read_bench DATA_DIR
#include <chrono>
#include <cstdio>
#include <vector>

#include "data/token_dataset.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s DATA_DIR\n", argv[0]);
    return 2;
  }
  const lmul::data::TokenDataset data(argv[1]);
  lmul::Rng rng(1);
  std::vector<int32_t> x, y;
  for (const int T : {64, 1024}) {
    const int n = 20000;
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < n; ++i) data.batch(lmul::data::Split::train, 12, T, rng, x, y);
    const double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count() / n;
    std::printf("B=12 T=%d: %.1f us per batch\n", T, us);
  }
}
