// report.html: one self-contained page (inline CSS and SVG, no scripts, no fonts or anything
// else fetched) with the loss figure, the comparison table and each run's details — its
// arithmetic, and how its config differs from the reference run's.
#pragma once
#include <string>

#include "apps/report/compare_table.h"
#include "apps/report/run_groups.h"

namespace lmul::report {

std::string html_report(const Comparison& c, const Table& table, const std::string& svg);

}  // namespace lmul::report
