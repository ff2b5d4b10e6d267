// `lmul sweep`'s request: sweep files (TOML with a [sweep] table), --arith entry lists, --site and
// --seeds. Input: the sweep file, then after "%%" lines the --arith arguments (one per line), the
// --site value and the --seeds value. The sweep file's config may name base.toml, which exists
// beside it.
// Properties: every entry that parses names known sites only and specs that make a multiplier or
// throw lmul::Error; a sweep file that reads back from what to_sweep_toml writes is the same request.
#include <algorithm>
#include <sstream>

#include "apps/sweep/sweep_request.h"
#include "core/arith/arith.h"
#include "fuzz/fuzz_input.h"

using namespace lmul;
namespace sweep = lmul::apps::sweep;

namespace {
bool same(const sweep::SweepRequest& a, const sweep::SweepRequest& b) {
  return a.config == b.config && a.arith == b.arith && a.site == b.site && a.seeds == b.seeds && a.sets == b.sets &&
         a.out == b.out;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string base = fuzz::write_file("base.toml", "max_iters = 10\n");
  const auto parts = fuzz::split_parts(data, size, 4);
  const std::string path = fuzz::write_file("sweep.toml", parts[0]);
  fuzz::expect_clean([&] {
    if (!sweep::is_sweep_file(path)) return;
    const sweep::SweepRequest r = sweep::read_sweep_file(path);
    const std::string again = fuzz::write_file("again.toml", sweep::to_sweep_toml(r));
    if (!same(sweep::read_sweep_file(again), r)) fuzz::fail("to_sweep_toml does not read back as the same request");
  });

  std::vector<std::string> args;
  std::istringstream lines(parts[1]);
  for (std::string line; std::getline(lines, line);) args.push_back(line);
  const std::string& site = parts[2];
  fuzz::expect_clean([&] { sweep::parse_seeds(parts[3]); });
  fuzz::expect_clean([&] { sweep::parse_sites(site, "--site"); });
  fuzz::expect_clean([&] {
    for (const std::string& text : sweep::split_arith_list(args)) {
      const sweep::ArithEntry e = sweep::parse_arith_entry(text, site);
      for (const auto& [key, spec] : e.assignments) {
        const bool module = key.starts_with("modules.") && key.size() > 8 &&
                            key.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.*",
                                                  8) == std::string::npos;
        if (key != "backward" && !module && std::ranges::find(sweep::kSites, key) == std::end(sweep::kSites))
          fuzz::fail("entry '" + text + "' assigns unknown site '" + key + "'");
        if (key == "backward" && (spec == "same" || spec == "exact")) continue;
        arith::make_multiplier(spec);
      }
    }
  });
  return 0;
}
