// The message of the lmul::Error a callable throws, or "(no error)": for tests that check an
// error's one-line text rather than only that something threw.
#pragma once
#include <string>

#include "core/error.h"

namespace lmul::testing {

inline std::string error_of(auto&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace lmul::testing
