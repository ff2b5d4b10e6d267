// How each group looks in every figure of a report (loss curves, the Δ summary, the table's
// swatches): one hue per arithmetic family — exact black, L-Mul blue, fp8 vermillion, PoT green,
// int reddish purple, ternary orange, custom floats purple (Okabe & Ito's colour-blind-safe
// palette) — and within a family a different marker, dash and shade per member. A format is read
// by its hue at a glance; 16 groups can still be matched to their legend entries.
#pragma once
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "apps/report/run_groups.h"
#include "apps/report/svg_plot.h"

namespace lmul::report {

struct GroupStyle {
  std::string color;  // "#rrggbb": the family's hue, shaded per member
  std::string dash;   // SVG stroke-dasharray, "" for solid
  Marker marker = Marker::circle;
};

// One style per group of c, in the order of c.groups. Members of a family are numbered in that
// order; no two groups of a comparison get the same style.
std::vector<GroupStyle> group_styles(const Comparison& c);

// The families of c in the order they first appear among its groups, each with its base colour.
std::vector<std::pair<std::string, std::string>> family_colors(const Comparison& c);

// A small inline SVG of a style (a line sample with its marker), for legends in HTML tables.
std::string style_swatch_svg(const GroupStyle& style);

}  // namespace lmul::report
