// Building the loss figure from a comparison.
#include "apps/report/loss_figure.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <map>

#include <fmt/format.h>

namespace lmul::report {

namespace {

// Okabe & Ito (2008), without yellow (unreadable on white), then darker extra hues.
constexpr std::array<const char*, 10> kPalette = {"#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00",
                                                  "#56B4E9", "#8C564B", "#7F3C8D", "#6B8E23", "#B22222"};
constexpr const char* kExactColor = "#1A1A1A";
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
                const std::string& single_name, const std::string& mean_name, const std::string& color,
                const std::string& dash, bool markers, Panel& panel) {
  const auto make = [&](const MetricSeries& m, double width, double opacity, const std::string& name) {
    Series s;
    s.x = m.steps, s.y = m.values, s.color = color, s.width = width, s.opacity = opacity, s.name = name;
    s.dash = dash;
    return s;
  };
  if (curves.size() == 1) {
    Series s = make(curves.front(), kMeanWidth, 1.0, single_name);
    s.markers = markers;
    panel.series.push_back(std::move(s));
    return;
  }
  for (size_t k = 0; k < curves.size(); ++k) panel.series.push_back(make(curves[k], kSeedWidth, kSeedOpacity, names[k]));
  Series mean = mean_series(curves);
  if (mean.x.empty()) return;
  mean.color = color, mean.width = kMeanWidth, mean.markers = markers, mean.dash = dash, mean.name = mean_name;
  panel.series.push_back(std::move(mean));
}

// The curves of one group for one metric: thin seeds plus a thick mean, or one line for one run.
void add_group_series(const Comparison& c, size_t gi, const std::string& metric, bool markers, Panel& panel) {
  const RunGroup& g = c.groups[gi];
  std::vector<MetricSeries> runs;
  std::vector<std::string> names;
  for (size_t i : g.runs)
    if (MetricSeries m = metric_series(c.runs[i], metric); !m.steps.empty())
      runs.push_back(std::move(m)), names.push_back(c.runs[i].name);
  if (runs.empty()) return;
  add_curves(runs, names, g.name, fmt::format("{} (mean of {})", g.name, runs.size()), group_color(c, gi),
             group_dash(c, gi), markers, panel);
}

// A series minus its partner's value at the same step (steps the partner lacks are left out).
MetricSeries difference(const MetricSeries& a, const MetricSeries& b) {
  std::map<double, double> at;
  for (size_t i = 0; i < b.steps.size(); ++i) at[b.steps[i]] = b.values[i];
  MetricSeries d;
  for (size_t i = 0; i < a.steps.size(); ++i)
    if (auto it = at.find(a.steps[i]); it != at.end()) d.steps.push_back(a.steps[i]), d.values.push_back(a.values[i] - it->second);
  return d;
}

// The Δ panel's curves of group gi: val loss minus the val loss of the exact run of the same seed,
// per seed that has an exact partner (thin) and their mean (thick); a zero line for the reference.
// Returns whether it added anything.
bool add_group_delta(const Comparison& c, size_t gi, Panel& panel) {
  const RunGroup& g = c.groups[gi];
  const RunGroup* ref = reference_group(c, g);
  if (!ref) return false;
  if (ref == &g) {  // the reference itself: Δ = 0 along its steps
    MetricSeries m = metric_series(c.runs[g.runs.front()], "val_loss");
    if (m.steps.empty()) return false;
    Series zero;
    zero.x = m.steps, zero.y.assign(m.steps.size(), 0.0), zero.color = group_color(c, gi), zero.width = kMeanWidth;
    zero.name = g.name;
    panel.series.push_back(std::move(zero));
    return true;
  }
  std::vector<MetricSeries> diffs;
  std::vector<std::string> names;
  for (size_t i : g.runs)
    if (const auto partners = same_seed_runs(c, i, *ref); !partners.empty()) {
      const size_t j = partners.front();
      MetricSeries d = difference(metric_series(c.runs[i], "val_loss"), metric_series(c.runs[j], "val_loss"));
      if (!d.steps.empty()) diffs.push_back(std::move(d)), names.push_back(c.runs[i].name + " − " + c.runs[j].name);
    }
  if (diffs.empty()) return false;
  add_curves(diffs, names, names.front(), fmt::format("{} (mean of {} same-seed differences)", g.name, diffs.size()),
             group_color(c, gi), group_dash(c, gi), true, panel);
  return true;
}

}  // namespace

namespace {

// The group's place among the non-reference groups (its palette slot), or -1 for the reference.
std::ptrdiff_t palette_slot(const Comparison& c, size_t g) {
  size_t first_exact = c.groups.size();
  for (size_t i = 0; i < c.groups.size(); ++i)
    if (c.groups[i].exact) {
      first_exact = i;
      break;
    }
  if (g == first_exact) return -1;
  return static_cast<std::ptrdiff_t>(g - (g > first_exact ? 1 : 0));
}

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

std::string group_color(const Comparison& c, size_t g) {
  const std::ptrdiff_t k = palette_slot(c, g);
  return k < 0 ? kExactColor : kPalette[static_cast<size_t>(k) % kPalette.size()];
}

std::string group_dash(const Comparison& c, size_t g) {
  // Past the palette's 10 colours, colours repeat with a dash pattern to keep groups apart.
  constexpr std::array<const char*, 3> kDashes = {"", "7 3", "2 2"};
  const std::ptrdiff_t k = palette_slot(c, g);
  return k < 0 ? "" : kDashes[(static_cast<size_t>(k) / kPalette.size()) % kDashes.size()];
}

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

  Panel train{"Training loss", "step", y_label, {}}, val{"Validation loss", "step", y_label, {}};
  Panel delta{"Val loss − exact (same seed)", "step", "Δ loss", {}};
  delta.linear_y = true;
  bool any_seeds = false, any_delta = false;
  for (size_t g = 0; g < c.groups.size(); ++g) {
    add_group_series(c, g, "train_loss", false, train);
    add_group_series(c, g, "val_loss", true, val);
    if (!c.groups[g].exact)
      any_delta = add_group_delta(c, g, delta) || any_delta;
    else if (reference_group(c, c.groups[g]) == &c.groups[g])
      add_group_delta(c, g, delta);  // its zero line
    any_seeds = any_seeds || c.groups[g].runs.size() > 1;
    const size_t n = c.groups[g].runs.size();
    f.legend.push_back({n > 1 ? fmt::format("{} (n={})", c.groups[g].name, n) : c.groups[g].name,
                        group_color(c, g), kMeanWidth, 1.0, group_dash(c, g), true});
  }
  if (any_seeds) {
    f.legend.push_back({"one seed", "#777777", kSeedWidth, 0.6, "", false});
    f.legend.push_back({"mean over seeds", "#777777", kMeanWidth, 1.0, "", false});
  }
  train.y_cap = loss_cap(train), val.y_cap = loss_cap(val);
  // A diverging run's Δ leaves the frame as its loss does: no Δ can exceed the loss axis's span.
  if (double lo = std::numeric_limits<double>::infinity(); std::isfinite(val.y_cap)) {
    for (const auto& s : val.series)
      for (double y : s.y)
        if (std::isfinite(y)) lo = std::min(lo, y);
    if (std::isfinite(lo)) delta.y_cap = val.y_cap - lo;
  }
  // A panel with no data (no eval yet) would be an empty frame: leave it out unless both are empty.
  if (!train.series.empty()) f.panels.push_back(std::move(train));
  if (!val.series.empty()) f.panels.push_back(std::move(val));
  if (f.panels.empty()) f.panels.push_back(std::move(val));
  // The differences are what a comparison of formats is about, and on the loss axes they vanish
  // (a few 0.01 on a 2-unit scale): a third panel when some non-exact run has an exact partner.
  if (any_delta) f.panels.push_back(std::move(delta)), f.width = 1500;
  if (f.panels.size() == 1) f.width = 700;
  return f;
}

std::string loss_figure_svg(const Comparison& c, const LossFigureOptions& options) {
  return render_svg(loss_figure(c, options));
}

}  // namespace lmul::report
