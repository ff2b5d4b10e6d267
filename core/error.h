// lmul::Error: the one exception type for user and caller mistakes (bad config, data, spec,
// checkpoint, CLI). Its message is a single line: what, where (file:key, [op]), the fix.
// apps/main.cpp catches it, prints it and exits 2. Bugs are LMUL_ASSERT failures instead.
#pragma once
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include <fmt/format.h>

namespace lmul {

// The message as one line: a control character it quotes from the input (a newline in a --set
// value, a NUL in a spec, a tab in a TOML key) is written as an escape (\n, \t, \x00), so that an
// error never spans lines or hides part of itself.
inline std::string one_line(std::string text) {
  if (std::none_of(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }))
    return text;
  std::string out;
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '\n')
      out += "\\n";
    else if (c == '\r')
      out += "\\r";
    else if (c == '\t')
      out += "\\t";
    else if (u < 0x20 || u == 0x7f)
      out += fmt::format("\\x{:02x}", u);
    else
      out += c;
  }
  return out;
}

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(one_line(what)) {}
  template <typename... Args>
  explicit Error(fmt::format_string<Args...> f, Args&&... args)
      : std::runtime_error(one_line(fmt::format(f, std::forward<Args>(args)...))) {}
};

// A runtime failure that is not the user's input (I/O error mid-run, disk full): exit code 1.
class RuntimeFailure : public std::runtime_error {
 public:
  explicit RuntimeFailure(const std::string& what) : std::runtime_error(one_line(what)) {}
};

[[noreturn]] inline void assertion_failed(const char* expr, const char* file, int line) {
  std::fprintf(stderr, "lmul: internal error: assertion '%s' failed at %s:%d\n", expr, file, line);
  std::abort();
}

}  // namespace lmul

#define LMUL_ASSERT(cond)                                             \
  do {                                                                \
    if (!(cond)) ::lmul::assertion_failed(#cond, __FILE__, __LINE__); \
  } while (0)
