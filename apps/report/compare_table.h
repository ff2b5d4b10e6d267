// The comparison as a table: for the terminal (aligned columns), as markdown (compare.md, to
// paste into a README) and as JSON (compare.json, every number unrounded).
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "apps/report/run_groups.h"

namespace lmul::report {

// Header and one row of cells per group, numbers formatted for reading.
struct Table {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
};
Table compare_table(const Comparison& c);

std::string format_terminal(const Table& t);
std::string format_markdown(const Table& t);
nlohmann::json compare_json(const Comparison& c);

// Several run names as one: the common prefix and suffix around the differing middles,
// {"lmul4_s1", "lmul4_s2"} → "lmul4_s{1,2}".
std::string brace_names(const std::vector<std::string>& names);
// "1.4712 ± 0.0123" (n ≥ 2), "1.4712" (n = 1), "—" (n = 0), "diverged" (a NaN among them).
std::string stat_text(const Stat& s);

}  // namespace lmul::report
