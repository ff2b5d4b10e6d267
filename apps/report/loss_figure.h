// The loss-curve figure of a comparison: training loss and validation loss against step, one
// colour per arithmetic group (black for exact), seeds as thin lines under their mean; and, when
// runs pair with an exact run of the same seed, their val loss minus that run's against step.
#pragma once
#include <string>

#include "apps/report/run_groups.h"
#include "apps/report/svg_plot.h"

namespace lmul::report {

struct LossFigureOptions {
  bool log_y = false;
};

Figure loss_figure(const Comparison& c, const LossFigureOptions& options);
std::string loss_figure_svg(const Comparison& c, const LossFigureOptions& options);

// The colour of group index g among the groups: exact-arithmetic group in black, the others from
// the Okabe–Ito colour-blind-safe palette (then a few more distinct hues).
std::string group_color(const Comparison& c, size_t g);
// Its dash pattern: solid for the first ten non-exact groups, then dashed, then dotted.
std::string group_dash(const Comparison& c, size_t g);

}  // namespace lmul::report
