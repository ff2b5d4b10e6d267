// lmul::Error: the one exception type for user and caller mistakes (bad config, data, spec,
// checkpoint, CLI). Its message is a single line: what, where (file:key, [op]), the fix.
// apps/main.cpp catches it, prints it and exits 2. Bugs are LMUL_ASSERT failures instead.
#pragma once
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include <fmt/format.h>

namespace lmul {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
  template <typename... Args>
  explicit Error(fmt::format_string<Args...> f, Args&&... args)
      : std::runtime_error(fmt::format(f, std::forward<Args>(args)...)) {}
};

// A runtime failure that is not the user's input (I/O error mid-run, disk full): exit code 1.
class RuntimeFailure : public std::runtime_error {
 public:
  explicit RuntimeFailure(const std::string& what) : std::runtime_error(what) {}
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
