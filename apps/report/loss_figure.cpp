// Building the loss figure from a comparison.
#include "apps/report/loss_figure.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include <fmt/format.h>

namespace lmul::report {

namespace {

constexpr double kMeanWidth = 2.2, kSeedWidth = 1.0, kSeedOpacity = 0.35;

// The mean over a group's runs at the steps every run logged the metric at (a step that some
// seed has not reached yet is left out rather than averaged over fewer runs).
Series mean_series(const std::vector<MetricSeries>& runs) {
  std::map<double, std::pair<double, size_t>> sums;  // step → (sum, count)
  for (const auto& r : runs)
    for (size_t i = 0; i < r.steps.size(); ++i) {
      auto& [sum, count] = sums[r.steps[i]];
      sum += r.values[i], ++count;
    }
  Series s;
  for (const auto& [step, sc] : sums)
    if (sc.second == runs.size()) s.x.push_back(step), s.y.push_back(sc.first / static_cast<double>(sc.second));
  return s;
}

// A group's curves: one thick line when there is one (named single_name), else each curve thin
// under their thick mean (named mean_name) at the steps all of them reached.
void add_curves(const std::vector<MetricSeries>& curves, const std::vector<std::string>& names,
                const std::string& single_name, const std::string& mean_name, const GroupStyle& style, bool markers,
                Panel& panel) {
  const auto make = [&](const MetricSeries& m, double width, double opacity, const std::string& name) {
    Series s;
    s.x = m.steps, s.y = m.values, s.color = style.color, s.width = width, s.opacity = opacity, s.name = name;
    s.dash = style.dash, s.marker = style.marker;
    return s;
  };
  if (curves.size() == 1) {
    Series s = make(curves.front(), kMeanWidth, 1.0, single_name);
    s.markers = markers;
    panel.series.push_back(std::move(s));
    return;
  }
  for (size_t k = 0; k < curves.size(); ++k)
    panel.series.push_back(make(curves[k], kSeedWidth, kSeedOpacity, names[k]));
  Series mean = mean_series(curves);
  if (mean.x.empty()) return;
  mean.color = style.color, mean.width = kMeanWidth, mean.markers = markers, mean.dash = style.dash;
  mean.marker = style.marker, mean.name = mean_name;
  panel.series.push_back(std::move(mean));
}

// The curves of one group for one metric: thin seeds plus a thick mean, or one line for one run.
void add_group_series(const Comparison& c, size_t gi, const GroupStyle& style, const std::string& metric, bool markers,
                      Panel& panel) {
  const RunGroup& g = c.groups[gi];
  std::vector<MetricSeries> runs;
  std::vector<std::string> names;
  for (size_t i : g.runs)
    if (MetricSeries m = metric_series(c.runs[i], metric); !m.steps.empty())
      runs.push_back(std::move(m)), names.push_back(c.runs[i].name);
  if (runs.empty()) return;
  add_curves(runs, names, g.name, fmt::format("{} (mean of {})", g.name, runs.size()), style, markers, panel);
}

// A series minus its partner's value at the same step (steps the partner lacks are left out).
MetricSeries difference(const MetricSeries& a, const MetricSeries& b) {
  std::map<double, double> at;
  for (size_t i = 0; i < b.steps.size(); ++i) at[b.steps[i]] = b.values[i];
  MetricSeries d;
  for (size_t i = 0; i < a.steps.size(); ++i)
    if (auto it = at.find(a.steps[i]); it != at.end())
      d.steps.push_back(a.steps[i]), d.values.push_back(a.values[i] - it->second);
  return d;
}

// The Δ panel's curves of group gi: the metric minus that of the exact run of the same seed, per
// seed that has an exact partner (thin) and their mean (thick); a zero line for the reference.
// Returns whether it added anything.
bool add_group_delta(const Comparison& c, size_t gi, const GroupStyle& style, const std::string& metric, Panel& panel) {
  const RunGroup& g = c.groups[gi];
  const RunGroup* ref = reference_group(c, g);
  if (!ref) return false;
  if (ref == &g) {  // the reference itself: Δ = 0 along its steps
    MetricSeries m = metric_series(c.runs[g.runs.front()], metric);
    if (m.steps.empty()) return false;
    Series zero;
    zero.x = m.steps, zero.y.assign(m.steps.size(), 0.0), zero.color = style.color, zero.width = kMeanWidth;
    zero.dash = style.dash;
    zero.name = g.name;
    panel.series.push_back(std::move(zero));
    return true;
  }
  std::vector<MetricSeries> diffs;
  std::vector<std::string> names;
  for (size_t i : g.runs)
    if (const auto partners = same_seed_runs(c, i, *ref); !partners.empty()) {
      const size_t j = partners.front();
      MetricSeries d = difference(metric_series(c.runs[i], metric), metric_series(c.runs[j], metric));
      if (!d.steps.empty()) diffs.push_back(std::move(d)), names.push_back(c.runs[i].name + " − " + c.runs[j].name);
    }
  if (diffs.empty()) return false;
  add_curves(diffs, names, names.front(), fmt::format("{} (mean of {} same-seed differences)", g.name, diffs.size()),
             style, true, panel);
  return true;
}

}  // namespace

namespace {

// The top of a loss axis: a little above the highest starting loss. Training starts near ln(V)
// and only a diverging run climbs above that; its spike would squash every other curve, so it
// leaves the frame at the top instead (the table reports the divergence).
double loss_cap(const Panel& p) {
  double cap = -1;
  for (const auto& s : p.series)
    for (double y : s.y)
      if (std::isfinite(y)) {
        cap = std::max(cap, y);
        break;
      }
  return cap > 0 ? cap * 1.05 : std::numeric_limits<double>::quiet_NaN();
}

}  // namespace

Figure loss_figure(const Comparison& c, const LossFigureOptions& options) {
  Figure f;
  f.log_y = options.log_y;
  const std::string y_label = options.log_y ? "loss (log scale)" : "loss";
  // Title: what was trained, when all runs agree on it.
  std::string what;
  if (!differing_keys(c.configs, KeyRole::setup).empty() || c.configs.front().count("dataset") == 0)
    what = fmt::format("{} runs", c.runs.size());
  else
    what = fmt::format("{}, {} runs", value_text(c.configs.front(), "dataset"), c.runs.size());
  f.title = fmt::format("Loss vs step by arithmetic — {}", what);

  // A metric other than the losses (a task's accuracy) gets a panel of its own, and the Δ panel
  // shows it: the differences in the metric the table reports.
  const bool own_panel = c.metric != "val_loss" && c.metric != "train_loss";
  const std::string delta_metric = own_panel ? c.metric : "val_loss";
  Panel train{"Training loss", "step", y_label, {}}, val{"Validation loss", "step", y_label, {}};
  Panel metric{c.metric, "step", c.metric, {}};
  metric.linear_y = true;
  Panel delta{own_panel ? c.metric + " − exact (same seed)" : "Val loss − exact (same seed)",
              "step",
              own_panel ? "Δ " + c.metric : "Δ loss",
              {}};
  delta.linear_y = true;
  const std::vector<GroupStyle> styles = group_styles(c);
  bool any_seeds = false, any_delta = false;
  for (size_t g = 0; g < c.groups.size(); ++g) {
    add_group_series(c, g, styles[g], "train_loss", false, train);
    add_group_series(c, g, styles[g], "val_loss", true, val);
    if (own_panel) add_group_series(c, g, styles[g], c.metric, true, metric);
    if (!c.groups[g].exact)
      any_delta = add_group_delta(c, g, styles[g], delta_metric, delta) || any_delta;
    else if (reference_group(c, c.groups[g]) == &c.groups[g])
      add_group_delta(c, g, styles[g], delta_metric, delta);  // its zero line
    any_seeds = any_seeds || c.groups[g].runs.size() > 1;
    const size_t n = c.groups[g].runs.size();
    f.legend.push_back({n > 1 ? fmt::format("{} (n={})", c.groups[g].name, n) : c.groups[g].name, styles[g].color,
                        kMeanWidth, 1.0, styles[g].dash, true, styles[g].marker});
  }
  if (any_seeds) {
    f.legend.push_back({"one seed", "#777777", kSeedWidth, 0.6, "", false});
    f.legend.push_back({"mean over seeds", "#777777", kMeanWidth, 1.0, "", false});
  }
  train.y_cap = loss_cap(train), val.y_cap = loss_cap(val);
  // A diverging run's Δ leaves the frame as its loss does: no Δ can exceed the loss axis's span.
  if (double lo = std::numeric_limits<double>::infinity(); !own_panel && std::isfinite(val.y_cap)) {
    for (const auto& s : val.series)
      for (double y : s.y)
        if (std::isfinite(y)) lo = std::min(lo, y);
    if (std::isfinite(lo)) delta.y_cap = val.y_cap - lo;
  }
  // A panel with no data (no eval yet) would be an empty frame: leave it out unless all are empty.
  if (!train.series.empty()) f.panels.push_back(std::move(train));
  if (!val.series.empty()) f.panels.push_back(std::move(val));
  if (!metric.series.empty()) f.panels.push_back(std::move(metric));
  if (f.panels.empty()) f.panels.push_back(std::move(val));
  // The differences are what a comparison of formats is about, and on the loss axes they vanish
  // (a few 0.01 on a 2-unit scale): a panel of them when some non-exact run has an exact partner.
  if (any_delta) f.panels.push_back(std::move(delta));
  f.width = f.panels.size() == 1 ? 700 : f.panels.size() == 2 ? 1100 : 500 * static_cast<int>(f.panels.size());
  return f;
}

std::string loss_figure_svg(const Comparison& c, const LossFigureOptions& options) {
  return render_svg(loss_figure(c, options));
}

}  // namespace lmul::report
