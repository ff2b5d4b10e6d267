// GPT-2 BPE encode throughput on a set of documents, one thread and all threads.
//   lmul_bpe_bench --vocab ../shared/data/gpt2 --runs 5 FILE_OR_DIR...
// A directory contributes its *.txt files (sorted), one document each; a file is one document.
// Modes: "cold" runs use a fresh tokenizer, so every thread's piece cache starts empty (what a
// small input sees); "warm" runs reuse a tokenizer that has already encoded the same input once
// (the cache-hit path, what a large corpus approaches). Each in 1 thread and in --threads N
// (default all cores; parallel over ~64 KB chunks cut at safe split points). Prints one line per
// mode: median MB/s over the runs (MB = 10^6 bytes of input), and the token count as a check.
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "data/bpe_pretokenize.h"
#include "data/bpe_tokenizer.h"

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

}  // namespace

int main(int argc, char** argv) {
  std::string vocab = "../shared/data/gpt2";
  int runs = 5;
  int threads = omp_get_max_threads();
  std::vector<std::string> docs;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--vocab" && i + 1 < argc) {
      vocab = argv[++i];
      continue;
    }
    if (a == "--runs" && i + 1 < argc) {
      runs = std::stoi(argv[++i]);
      continue;
    }
    if (a == "--threads" && i + 1 < argc) {
      threads = std::stoi(argv[++i]);
      continue;
    }
    if (std::filesystem::is_directory(a)) {
      std::vector<std::string> files;
      for (const auto& e : std::filesystem::directory_iterator(a))
        if (e.path().extension() == ".txt") files.push_back(e.path().string());
      std::sort(files.begin(), files.end());
      for (const auto& f : files) docs.push_back(slurp(f));
    } else {
      docs.push_back(slurp(a));
    }
  }
  if (docs.empty()) {
    std::fprintf(stderr, "usage: lmul_bpe_bench [--vocab DIR] [--runs N] [--threads N] FILE_OR_DIR...\n");
    return 2;
  }
  size_t bytes = 0;
  for (const auto& d : docs) bytes += d.size();

  // Work units for the parallel mode: documents cut at safe split points into ~64 KB chunks.
  std::vector<std::string_view> chunks;
  for (const auto& d : docs) {
    std::string_view t = d;
    for (size_t start = 0; start < t.size();) {
      size_t end = lmul::data::pretoken_safe_split(t, start + 65536);
      chunks.push_back(t.substr(start, end - start));
      start = end;
    }
  }

  auto encode_all = [&](const lmul::data::BpeTokenizer& tok, int n_threads) {
    std::vector<size_t> counts(chunks.size());
    if (n_threads == 1) {
      for (size_t i = 0; i < chunks.size(); ++i) counts[i] = tok.encode(chunks[i]).size();
    } else {
#pragma omp parallel for schedule(dynamic, 1) num_threads(n_threads)
      for (size_t i = 0; i < chunks.size(); ++i) counts[i] = tok.encode(chunks[i]).size();
    }
    size_t tokens = 0;
    for (size_t c : counts) tokens += c;
    return tokens;
  };
  for (bool warm : {false, true}) {
    for (int n_threads : {1, threads}) {
      std::vector<double> mbs;
      size_t tokens = 0;
      std::unique_ptr<lmul::data::BpeTokenizer> tok;
      if (warm) {
        tok = std::make_unique<lmul::data::BpeTokenizer>(vocab);
        encode_all(*tok, n_threads);
      }
      for (int r = 0; r < runs; ++r) {
        if (!warm) tok = std::make_unique<lmul::data::BpeTokenizer>(vocab);
        auto t0 = std::chrono::steady_clock::now();
        tokens = encode_all(*tok, n_threads);
        double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        mbs.push_back(bytes / s / 1e6);
      }
      std::printf("RESULT lmul %s %d-thread %.2f MB/s (median of %d), %zu docs, %zu bytes, %zu tokens\n",
                  warm ? "warm" : "cold", n_threads, median(mbs), runs, docs.size(), bytes, tokens);
    }
  }
  return 0;
}
