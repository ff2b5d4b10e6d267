// lmul_int_gemm_bench: the integer GEMM (core/integer/int_gemm.h) against OpenBLAS cblas_sgemm
// on the forward GEMMs of the model's Linear layers, Y = X·Wᵀ (X: M = B·T tokens × K, W: N × K).
// Usage: lmul_int_gemm_bench [rounds]   (threads: OMP_NUM_THREADS)
// Each round times sgemm, then every integer path, once per shape, so that the machine's noise
// hits every side alike; the medians over the rounds are printed. The integer time includes
// packing both operands (what a call from a format that quantises per step pays).
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include <cblas.h>
#include <fmt/format.h>
#include <omp.h>

#include "core/integer/int_gemm.h"

using namespace lmul::integer;

namespace {

template <typename F>
double wall_ms(F&& f) {
  const auto t0 = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

struct Shape {
  const char* config;
  const char* layer;
  int64_t M, N, K;
};

}  // namespace

int main(int argc, char** argv) {
  const int rounds = argc > 1 ? std::max(1, std::atoi(argv[1])) : 15;
  // baby 4/4/128: B·T = 12·64 = 768 tokens; 6/6/384: 64·256 = 16384 tokens.
  const std::vector<Shape> shapes = {
      {"baby", "attn.c_attn", 768, 384, 128},       {"baby", "attn.c_proj", 768, 128, 128},
      {"baby", "mlp.c_fc", 768, 512, 128},          {"baby", "mlp.c_proj", 768, 128, 512},
      {"6/6/384", "attn.c_attn", 16384, 1152, 384}, {"6/6/384", "attn.c_proj", 16384, 384, 384},
      {"6/6/384", "mlp.c_fc", 16384, 1536, 384},    {"6/6/384", "mlp.c_proj", 16384, 384, 1536},
  };
  const auto paths = int_gemm_paths();
  std::mt19937 rng(1);
  std::normal_distribution<float> normal;
  std::uniform_int_distribution<int> byte(-128, 127);
  fmt::print("threads {}, {} rounds, median wall ms per GEMM (integer: packing included); OpenBLAS {}\n\n",
             omp_get_max_threads(), rounds, openblas_get_corename());
  std::string head = "| config | layer | M×N×K | sgemm ms |", rule = "|---|---|---|---|";
  for (auto p : paths) {
    head += fmt::format(" {} ms | speed-up |", int_gemm_path_name(p));
    rule += "---|---|";
  }
  fmt::print("{}\n{}\n", head, rule);
  for (const auto& s : shapes) {
    std::vector<float> xf(s.M * s.K), wf(s.N * s.K), yf(s.M * s.N);
    std::vector<int8_t> xi(s.M * s.K), wi(s.N * s.K);
    std::vector<int32_t> yi(s.M * s.N);
    for (auto& v : xf) v = normal(rng);
    for (auto& v : wf) v = normal(rng);
    for (auto& v : xi) v = static_cast<int8_t>(byte(rng));
    for (auto& v : wi) v = static_cast<int8_t>(byte(rng));
    const bool big = s.M * s.N * s.K > (int64_t{1} << 30);
    const int r = big ? std::max(3, rounds / 3) : rounds;
    std::vector<double> t_sgemm;
    std::vector<std::vector<double>> t_int(paths.size());
    auto sgemm = [&] {
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(s.M), static_cast<int>(s.N),
                  static_cast<int>(s.K), 1.0f, xf.data(), static_cast<int>(s.K), wf.data(), static_cast<int>(s.K), 0.0f,
                  yf.data(), static_cast<int>(s.N));
    };
    sgemm();  // warm-up
    for (auto p : paths) int8_gemm(p, s.M, s.N, s.K, xi.data(), s.K, wi.data(), s.K, yi.data(), s.N);
    for (int i = 0; i < r; ++i) {
      t_sgemm.push_back(wall_ms(sgemm));
      for (size_t q = 0; q < paths.size(); ++q) {
        if (big && paths[q] == IntGemmPath::portable && i > 0) continue;  // seconds per call
        t_int[q].push_back(
            wall_ms([&] { int8_gemm(paths[q], s.M, s.N, s.K, xi.data(), s.K, wi.data(), s.K, yi.data(), s.N); }));
      }
    }
    const double ms = median(t_sgemm);
    std::string row = fmt::format("| {} | {} | {}×{}×{} | {:.3f} |", s.config, s.layer, s.M, s.N, s.K, ms);
    for (size_t q = 0; q < paths.size(); ++q) {
      const double mi = median(t_int[q]);
      row += fmt::format(" {:.3f} | {:.2f}× |", mi, ms / mi);
    }
    fmt::print("{}\n", row);
  }
  return 0;
}
