// report.html: one self-contained page (inline CSS and SVG, no scripts, no fonts or anything
// else fetched): the Δ summary figure first, the comparison table (each group with its style's
// swatch), the loss figure and each run's details — its arithmetic, and how its config differs
// from the reference run's.
#pragma once
#include <string>

#include "apps/report/compare_table.h"
#include "apps/report/run_groups.h"

namespace lmul::report {

// loss_svg: loss_figure_svg; delta_svg: delta_figure_svg, or "" when no group has a Δ.
std::string html_report(const Comparison& c, const Table& table, const std::string& loss_svg,
                        const std::string& delta_svg = "");

}  // namespace lmul::report
