// The table of number formats: one row per format, in `lmul numerics --list` order. Each row is a
// FormatInfo defined in its format's file with every facet side by side (spec parsing and
// canonical form, Multiplier, help, example, scalar references, export codec). An explicit table,
// not self-registering statics: a static library drops object files nothing references.
// Adding a format: its file, its row here, its line in CMakeLists.txt (README "Adding a number
// format"); tests/test_arith_table.cpp then checks every facet of the new row.
#include <algorithm>
#include <string>
#include <vector>

#include "core/arith/arith.h"
#include "core/arith/export_codec.h"
#include "core/error.h"

namespace lmul::arith {

// The rows; each format's file defines its own.
extern const FormatInfo exact_format, float_format, bf16_format, fp16_format, fp8_format, lmul_format, pot_format,
    int_format, ternary_format, dgq_format;

namespace {

// Built on first use, after the rows' constant initialisation; register_format appends.
std::vector<FormatInfo>& table() {
  static std::vector<FormatInfo> rows = {
      exact_format, float_format, bf16_format, fp16_format,    fp8_format,
      lmul_format,  pot_format,   int_format,  ternary_format, dgq_format,
  };
  return rows;
}

// "name" and "options" of "name:options". The documented separators are ':' after the name and
// ',' between options; ',' after the name ("bf16,round=stochastic") and ':' between options
// ("fp8:e4m3:round=stochastic") are read the same way.
std::pair<std::string_view, std::string> split_spec(std::string_view spec) {
  const size_t end = spec.find_first_of(":,");
  if (end == std::string_view::npos) return {spec, {}};
  std::string options(spec.substr(end + 1));
  std::replace(options.begin(), options.end(), ':', ',');
  return {spec.substr(0, end), options};
}

const FormatInfo* find_format(std::string_view name) {
  for (const auto& f : table())
    if (name == f.name) return &f;
  return nullptr;
}

}  // namespace

std::span<const FormatInfo> formats() { return table(); }

void register_format(const FormatInfo& format) {
  if (!format.name || !format.help || !format.example || !format.make)
    throw Error("register_format: a format needs a name, help, an example spec and a factory");
  if (find_format(format.name)) throw Error("register_format: a format named '{}' is already registered", format.name);
  table().push_back(format);
}

std::unique_ptr<Multiplier> make_multiplier(std::string_view spec, uint64_t seed) {
  const auto [name, options] = split_spec(spec);
  if (const FormatInfo* f = find_format(name)) return f->make(options, seed);
  std::string names;
  for (const auto& f : table()) names += (names.empty() ? "" : ", ") + std::string(f.name);
  throw Error("arith spec '{}': unknown format '{}' (known: {})", spec, name, names);
}

std::string exportable_formats() {
  std::string s;
  for (const auto& f : table())
    if (f.make_codec) s += (s.empty() ? "" : ", ") + std::string(f.export_help);
  return s;
}

std::unique_ptr<ExportCodec> make_export_codec(std::string_view spec) {
  const auto [name, options] = split_spec(spec);
  const FormatInfo* f = find_format(name);
  if (!f || !f->make_codec)
    throw Error("export spec '{}': {} '{}' (exportable: {})", spec,
                f ? "no packed export for the format" : "unknown export format", name, exportable_formats());
  return f->make_codec(options);
}

}  // namespace lmul::arith
