// Parsing of spec options "k=v,k=v" shared by the formats.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace lmul::arith {

// Options of one spec: key → value, in the order given; every key must be consumed.
class SpecOptions {
 public:
  // spec is the whole spec (for messages), options the part after ':' (may be empty).
  SpecOptions(std::string_view spec, std::string_view options);

  bool has(std::string_view key) const;
  std::string str(std::string_view key, std::string_view fallback);
  // Integer option in [lo, hi]; throws lmul::Error naming the spec, key and range.
  int64_t integer(std::string_view key, int64_t fallback, int64_t lo, int64_t hi);
  double real(std::string_view key, double fallback, double lo, double hi);
  // One of the given choices ("rne|trunc").
  std::string choice(std::string_view key, std::string_view fallback, std::string_view choices);
  // A positional word (an option with no '='), e.g. "e4m3" in "fp8:e4m3"; empty if none.
  std::string word();
  // Throws if an option was given that no format read.
  void finish() const;
  const std::string& spec() const { return spec_; }

 private:
  std::string spec_;
  std::map<std::string, std::string, std::less<>> kv_;
  std::map<std::string, bool, std::less<>> used_;
  std::string word_;
  bool word_used_ = false;
};

}  // namespace lmul::arith
