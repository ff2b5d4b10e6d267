// The loss-curve figure of a comparison: training loss and validation loss against step (and the
// compared metric when it is not one of them), each group in its group_style (hue by family),
// seeds as thin lines under their mean; and, when runs pair with an exact run of the same seed,
// their val loss (or the metric) minus that run's against step.
#pragma once
#include <string>

#include "apps/report/group_style.h"
#include "apps/report/run_groups.h"
#include "apps/report/svg_plot.h"

namespace lmul::report {

struct LossFigureOptions {
  bool log_y = false;
};

Figure loss_figure(const Comparison& c, const LossFigureOptions& options);
std::string loss_figure_svg(const Comparison& c, const LossFigureOptions& options);

}  // namespace lmul::report
