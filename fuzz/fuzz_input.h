// What every fuzz target shares: the contract (lmul::Error is the right answer to bad input and
// must be one line; any other exception escapes, and libFuzzer reports it as a crash with its
// input), the splitting of one input into the several files a parser reads, and a scratch
// directory to write them to (the parsers read paths, as the CLI gives them).
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "tests/temp_dir.h"

namespace lmul::fuzz {

// Separates the files of one input: a line holding only "%%" (meta.json, then train.bin, ...).
inline constexpr std::string_view kPartSeparator = "\n%%\n";

// The input cut at each separator; missing parts are empty.
inline std::vector<std::string> split_parts(const uint8_t* data, size_t size, size_t count) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> parts;
  while (parts.size() + 1 < count) {
    const size_t at = in.find(kPartSeparator);
    if (at == std::string_view::npos) break;
    parts.emplace_back(in.substr(0, at));
    in.remove_prefix(at + kPartSeparator.size());
  }
  parts.emplace_back(in);
  parts.resize(count);
  return parts;
}

// This process's scratch directory (removed at exit), holding the files of the current input.
inline const lmul::test::TempDir& scratch() {
  static const lmul::test::TempDir dir;
  return dir;
}

// Writes content to scratch()/name, replacing what the previous input left there.
inline std::string write_file(const std::string& name, std::string_view content) {
  const std::string path = scratch() / name;
  std::ofstream(path, std::ios::binary | std::ios::trunc)
      .write(content.data(), static_cast<std::streamsize>(content.size()));
  return path;
}

// A property of the parser's output that does not hold: a bug, reported like a crash.
[[noreturn]] inline void fail(const std::string& what) {
  std::fprintf(stderr, "lmul fuzz: property violated: %s\n", what.c_str());
  std::abort();
}

// Runs f; an lmul::Error (the answer to bad input) must be a single non-empty line. Every other
// exception (std::bad_alloc, std::out_of_range, nlohmann::json errors, ...) propagates: a bug.
template <typename F>
void expect_clean(F&& f) {
  try {
    f();
  } catch (const lmul::Error& e) {
    const std::string_view what = e.what();
    if (what.empty() || what.find('\n') != std::string_view::npos)
      fail("lmul::Error is not one line: " + std::string(what));
  }
}

}  // namespace lmul::fuzz
