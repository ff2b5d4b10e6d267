// The summary figure of a comparison (delta.svg): per group, its final (and best) value of the
// metric minus the exact group's — mean ± std of the same-seed differences, as the table's Δ —
// one row per group sorted best first, the zero line drawn, each point in its group's style (hue
// by family). It answers "which format costs how much" at a glance, as papers show it, where
// the loss curves of 16 formats overlap.
#pragma once
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "apps/report/group_style.h"
#include "apps/report/run_groups.h"

namespace lmul::report {

// One Δ as the table states it: mean ± std of the same-seed differences when at least two seeds
// pair with an exact run, else the difference of the means (no error bar).
struct DeltaValue {
  std::optional<double> mean;  // empty: no exact reference; NaN: a run diverged
  double err = 0;              // one std of the same-seed differences; NaN when there is none
  int n = 0;                   // same-seed pairs behind mean ± err (0: difference of means)
};

struct DeltaRow {
  size_t group = 0;        // index into Comparison::groups
  std::string label;       // the group's name
  bool reference = false;  // an exact group that others are measured against (Δ = 0 by definition)
  DeltaValue final_value, best_value;
  GroupStyle style;
};

struct DeltaSummary {
  std::string title, subtitle;
  std::string metric;
  Better better = Better::lower;
  bool show_best = false;      // a second panel for the best values, when some differ from the final ones
  std::vector<DeltaRow> rows;  // sorted: better final Δ first, then diverged groups, then groups without Δ
  std::vector<std::pair<std::string, std::string>> families;  // family → colour, for the legend
};

// True when some non-reference group has a Δ: otherwise there is no summary to draw.
bool has_delta(const Comparison& c);

DeltaSummary delta_summary(const Comparison& c);
std::string render_delta_svg(const DeltaSummary& summary);
std::string delta_figure_svg(const Comparison& c);

// The Δ text of the table: "+0.0114 ± 0.0039", "+0.0114", "ref", "diverged" or "—".
std::string delta_text(const DeltaValue& v, bool reference);

}  // namespace lmul::report
