#include "core/arith/spec.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "core/error.h"

namespace lmul::arith {

SpecOptions::SpecOptions(std::string_view spec, std::string_view options) : spec_(spec) {
  size_t pos = 0;
  while (pos < options.size()) {
    size_t end = options.find(',', pos);
    if (end == std::string_view::npos) end = options.size();
    std::string_view part = options.substr(pos, end - pos);
    pos = end + 1;
    if (part.empty()) throw Error("arith spec '{}': empty option (stray ','?)", spec_);
    size_t eq = part.find('=');
    if (eq == std::string_view::npos) {
      if (!word_.empty()) throw Error("arith spec '{}': option '{}' has no value (write key=value)", spec_, part);
      word_ = std::string(part);
      continue;
    }
    std::string key(part.substr(0, eq));
    if (kv_.count(key)) throw Error("arith spec '{}': option '{}' given twice", spec_, key);
    kv_[key] = std::string(part.substr(eq + 1));
    used_[key] = false;
  }
}

bool SpecOptions::has(std::string_view key) const { return kv_.find(key) != kv_.end(); }

std::string SpecOptions::str(std::string_view key, std::string_view fallback) {
  auto it = kv_.find(key);
  if (it == kv_.end()) return std::string(fallback);
  used_.find(key)->second = true;
  return it->second;
}

int64_t SpecOptions::integer(std::string_view key, int64_t fallback, int64_t lo, int64_t hi) {
  if (!has(key)) return fallback;
  std::string v = str(key, "");
  char* end = nullptr;
  errno = 0;
  long long x = std::strtoll(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0' || errno != 0)
    throw Error("arith spec '{}': {}={} is not an integer (allowed {}..{})", spec_, key, v, lo, hi);
  if (x < lo || x > hi) throw Error("arith spec '{}': {}={} is out of range (allowed {}..{})", spec_, key, v, lo, hi);
  return x;
}

double SpecOptions::real(std::string_view key, double fallback, double lo, double hi) {
  if (!has(key)) return fallback;
  std::string v = str(key, "");
  char* end = nullptr;
  double x = std::strtod(v.c_str(), &end);
  if (v.empty() || *end != '\0' || !std::isfinite(x))
    throw Error("arith spec '{}': {}={} is not a number (allowed {}..{})", spec_, key, v, lo, hi);
  if (x < lo || x > hi) throw Error("arith spec '{}': {}={} is out of range (allowed {}..{})", spec_, key, v, lo, hi);
  return x;
}

std::string SpecOptions::choice(std::string_view key, std::string_view fallback, std::string_view choices) {
  std::string v = str(key, fallback);
  std::string_view c = choices;
  size_t pos = 0;
  while (pos <= c.size()) {
    size_t end = c.find('|', pos);
    if (end == std::string_view::npos) end = c.size();
    if (c.substr(pos, end - pos) == v) return v;
    pos = end + 1;
  }
  throw Error("arith spec '{}': {}={} is not allowed (choose {})", spec_, key, v, choices);
}

std::string SpecOptions::word() {
  word_used_ = true;
  return word_;
}

void SpecOptions::finish() const {
  if (!word_.empty() && !word_used_)
    throw Error("arith spec '{}': unexpected option '{}' (options are key=value)", spec_, word_);
  for (const auto& [k, used] : used_)
    if (!used) throw Error("arith spec '{}': unknown option '{}'", spec_, k);
}

}  // namespace lmul::arith
