// The explicit table of number formats (not self-registering statics: a static library drops
// object files nothing references). One row per format; also `lmul numerics --list`.
#include <array>

#include "core/arith/arith.h"
#include "core/arith/formats.h"
#include "core/error.h"

namespace lmul::arith {

namespace {
const std::array kFormats = {
    FormatInfo{"exact", "fp32 products (OpenBLAS sgemm)", &make_exact},
};
}  // namespace

std::span<const FormatInfo> formats() { return kFormats; }

std::unique_ptr<Multiplier> make_multiplier(std::string_view spec, uint64_t seed) {
  std::string_view name = spec.substr(0, spec.find(':'));
  std::string_view options =
      spec.find(':') == std::string_view::npos ? std::string_view{} : spec.substr(spec.find(':') + 1);
  for (const auto& f : kFormats)
    if (name == f.name) return f.make(options, seed);
  std::string names;
  for (const auto& f : kFormats) names += (names.empty() ? "" : ", ") + std::string(f.name);
  throw Error("arith spec '{}': unknown format '{}' (known: {})", spec, name, names);
}

}  // namespace lmul::arith
