// Writes a benchmark corpus in the layouts corpora are downloaded in, from the web-text samples
// in ../shared/data/owt_sample (nothing to download):
//   OUT/subsets/urlsf_subsetSS.tar  — OpenWebText's: a tar of openwebtext/urlsf_subsetSS-K_data.xz,
//                                     each an xz-compressed tar of NNNNNNN-HASH.txt documents;
//   OUT/jsonl/shardSS.jsonl.zst     — The Pile's / SlimPajama's: zstd-compressed JSON lines {"text": ...}.
// Documents are the samples' paragraphs joined to ~4.7 KB (OpenWebText's mean: ~38 GB / 8.0 M
// documents). Each .xz member holds a random draw of distinct documents (no text repeats inside one
// member, so xz compresses it as it would fresh text); `--distinct` different members are made and
// then repeated to fill `--subsets` × `--members` (compressing xz is slow, reading it is what is timed).
//   lmul_owt_corpus --samples ../shared/data/owt_sample --out /tmp/owt_bench [--subsets 2 --members 20 --distinct 8
//   --xz-level 6]
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "tests/archive_fixture.h"

namespace fs = std::filesystem;
using lmul::test::Compression;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

void spit(const fs::path& p, const std::string& bytes) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << bytes;
}

// The samples' paragraphs ("\n\n"-separated) joined into documents of about `target` bytes.
std::vector<std::string> documents(const fs::path& samples, size_t target) {
  std::vector<fs::path> files{samples / "openwebtext_hf_first100.txt"};
  for (const auto& e : fs::directory_iterator(samples / "pydocs_3.11"))
    if (e.path().extension() == ".txt") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  std::vector<std::string> docs;
  for (const auto& f : files) {
    const std::string text = slurp(f);
    std::string doc;
    for (size_t pos = 0; pos < text.size();) {
      size_t end = text.find("\n\n", pos);
      end = end == std::string::npos ? text.size() : end + 2;
      doc.append(text, pos, end - pos);
      pos = end;
      if (doc.size() >= target) docs.push_back(std::move(doc)), doc.clear();
    }
    if (!doc.empty()) docs.push_back(std::move(doc));
  }
  return docs;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("Benchmark corpus in OpenWebText's and The Pile's layouts");
  std::string samples = "../shared/data/owt_sample", out;
  int subsets = 2, members = 20, distinct = 8, xz_level = 6, per_member = 300;
  app.add_option("--samples", samples, "owt_sample directory")->capture_default_str();
  app.add_option("--out", out, "Output directory")->required();
  app.add_option("--subsets", subsets, "Outer tars (OpenWebText has 21)")->capture_default_str();
  app.add_option("--members", members, ".xz members per outer tar")->capture_default_str();
  app.add_option("--distinct", distinct, "Different .xz members made (then repeated)")->capture_default_str();
  app.add_option("--docs-per-member", per_member, "Documents per .xz member")->capture_default_str();
  app.add_option("--xz-level", xz_level, "xz preset")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  const auto docs = documents(samples, 4700);
  per_member = std::min<int>(per_member, static_cast<int>(docs.size()));
  std::mt19937_64 rng(1);
  std::vector<std::string> xz;             // the distinct compressed members
  std::vector<std::vector<size_t>> picks;  // their documents
  size_t text_bytes = 0;
  for (int k = 0; k < distinct; ++k) {
    std::vector<size_t> idx(docs.size());
    for (size_t i = 0; i < idx.size(); ++i) idx[i] = i;
    std::shuffle(idx.begin(), idx.end(), rng);
    idx.resize(per_member);
    std::vector<std::pair<std::string, std::string>> txts;
    for (size_t j = 0; j < idx.size(); ++j)
      txts.emplace_back(fmt::format("{:07}-{:016x}.txt", k * per_member + j, rng()), docs[idx[j]]);
    xz.push_back(lmul::test::make_tar(txts, Compression::xz, xz_level));
    picks.push_back(std::move(idx));
  }
  uint64_t n_docs = 0, xz_bytes = 0, zst_bytes = 0;
  for (int s = 0; s < subsets; ++s) {
    std::vector<std::pair<std::string, std::string>> outer;
    std::string jsonl;
    for (int m = 0; m < members; ++m) {
      const int k = (s * members + m) % distinct;
      outer.emplace_back(fmt::format("openwebtext/urlsf_subset{:02}-{}_data.xz", s, m + 1), xz[k]);
      for (size_t i : picks[k]) {
        jsonl += nlohmann::json{{"text", docs[i]}}.dump() + "\n";
        text_bytes += docs[i].size();
      }
      n_docs += picks[k].size();
    }
    const std::string tar = lmul::test::make_tar(outer), zst = lmul::test::compress(jsonl, Compression::zstd);
    spit(fs::path(out) / fmt::format("subsets/urlsf_subset{:02}.tar", s), tar);
    spit(fs::path(out) / fmt::format("jsonl/shard{:02}.jsonl.zst", s), zst);
    xz_bytes += tar.size();
    zst_bytes += zst.size();
  }
  fmt::print(
      "{} documents, {:.1f} MB of text; subsets/ {:.1f} MB (tar of xz, ratio {:.2f}), jsonl/ {:.1f} MB (jsonl.zst)\n",
      n_docs, text_bytes / 1e6, xz_bytes / 1e6, static_cast<double>(text_bytes) / xz_bytes, zst_bytes / 1e6);
}
