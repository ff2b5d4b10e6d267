// Grouping runs by everything but the seed, and the statistics of each group.
#include "apps/report/run_groups.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <set>

#include <fmt/format.h>

#include "core/error.h"

namespace lmul::report {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

RunSummary summarise(const RunMetrics& run, const std::string& metric, Better better) {
  RunSummary s;
  // The train loss of eval steps (averaged over eval_iters batches, as nanoGPT reports it) is a
  // far steadier final value than one minibatch's loss; use it when the trainer logged it.
  MetricSeries series = metric_series(run, metric);
  if (metric == "train_loss")
    if (MetricSeries eval = metric_series(run, "eval_train_loss"); !eval.values.empty()) series = std::move(eval);
  if (!series.values.empty()) {
    s.final_loss = series.values.back();
    // A NaN (diverged) value makes "best" the best before divergence; all NaN → NaN.
    double best = kNaN;
    for (double v : series.values)
      if (std::isfinite(v) && (std::isnan(best) || better_than(v, best, better))) best = v;
    s.best_loss = best;
  }
  if (!run.records.empty()) s.last_step = run.records.back().step;
  std::vector<double> tps, ms;
  for (const auto& r : run.records) {
    if (r.tokens_per_s) tps.push_back(*r.tokens_per_s);
    if (r.ms_per_step) ms.push_back(*r.ms_per_step);
  }
  s.tokens_per_s = median(tps);
  s.ms_per_step = median(ms);
  return s;
}

// Runs from different parents with the same directory name ("a/seed1", "b/seed1") are named
// with their parent so that the table tells them apart.
void disambiguate_names(std::vector<RunMetrics>& runs) {
  std::vector<std::string> renamed(runs.size());
  for (size_t i = 0; i < runs.size(); ++i)
    for (size_t j = 0; j < runs.size(); ++j)
      if (i != j && runs[i].name == runs[j].name) {
        const auto parent = runs[i].dir.lexically_normal().parent_path();
        const auto up = parent.has_filename() ? parent.filename() : parent.parent_path().filename();
        renamed[i] = (up / runs[i].name).string();
      }
  for (size_t i = 0; i < runs.size(); ++i)
    if (!renamed[i].empty()) runs[i].name = renamed[i];
}

// The identity of an experiment: every key except the seed and the bookkeeping ones.
std::string group_key(const FlatConfig& config) {
  nlohmann::json key = nlohmann::json::object();
  for (const auto& [k, v] : config)
    if (key_role(k) != KeyRole::seed && key_role(k) != KeyRole::bookkeeping) key[k] = v;
  return key.dump();
}

// "n_embd: 128 (a, b) vs 256 (c)": which runs hold which value of a key.
std::string describe_key(const Comparison& c, const std::string& key) {
  std::vector<std::pair<std::string, std::string>> values;  // value → run names
  for (size_t i = 0; i < c.runs.size(); ++i) {
    const std::string v = value_text(c.configs[i], key);
    auto it = std::find_if(values.begin(), values.end(), [&](const auto& p) { return p.first == v; });
    if (it == values.end())
      values.emplace_back(v, c.runs[i].name);
    else
      it->second += ", " + c.runs[i].name;
  }
  std::string out = key + ": ";
  for (size_t i = 0; i < values.size(); ++i) {
    // Many runs sharing a value are counted rather than listed, to keep the warning one line.
    const auto names = std::count(values[i].second.begin(), values[i].second.end(), ',') + 1;
    const std::string who = names > 3 ? fmt::format("{} runs", names) : values[i].second;
    out += fmt::format("{}{} ({})", i == 0 ? "" : " vs ", values[i].first, who);
  }
  return out;
}

// Group names: the label, and where several groups share it, the keys that tell them apart.
void name_groups(Comparison& c) {
  for (auto& g : c.groups) {
    std::vector<FlatConfig> same_label;
    for (const auto& other : c.groups)
      if (other.label == g.label) same_label.push_back(c.configs[other.runs.front()]);
    g.name = g.label;
    if (same_label.size() < 2) continue;
    std::string extra;
    for (KeyRole role : {KeyRole::setup, KeyRole::length, KeyRole::arith})
      for (const auto& k : differing_keys(same_label, role))
        extra += fmt::format("{}{}={}", extra.empty() ? "" : ", ", k, value_text(c.configs[g.runs.front()], k));
    if (!extra.empty()) g.name += fmt::format(" ({})", extra);
  }
}

}  // namespace

Better metric_direction(std::string_view metric) {
  return metric.find("acc") != std::string_view::npos ? Better::higher : Better::lower;
}

bool better_than(double a, double b, Better better) { return better == Better::lower ? a < b : a > b; }

const RunGroup* reference_group(const Comparison& c, const RunGroup& g) {
  const RunGroup* first = nullptr;
  for (const auto& e : c.groups) {
    if (!e.exact) continue;
    if (!first) first = &e;
    if (differing_keys({c.configs[e.runs.front()], c.configs[g.runs.front()]}, KeyRole::setup).empty()) return &e;
  }
  return first;
}

std::vector<size_t> same_seed_runs(const Comparison& c, size_t i, const RunGroup& ref) {
  std::vector<size_t> out;
  if (const auto seed = config_seed(c.runs[i].config))
    for (size_t j : ref.runs)
      if (config_seed(c.runs[j].config) == seed) out.push_back(j);
  return out;
}

Stat mean_std(const std::vector<double>& values) {
  Stat s;
  s.n = static_cast<int>(values.size());
  if (values.empty()) return {kNaN, kNaN, 0};
  s.mean = std::accumulate(values.begin(), values.end(), 0.0) / s.n;
  if (s.n < 2) {
    s.std = kNaN;
    return s;
  }
  double ss = 0;
  for (double v : values) ss += (v - s.mean) * (v - s.mean);
  s.std = std::sqrt(ss / (s.n - 1));
  return s;
}

double median(std::vector<double> values) {
  if (values.empty()) return kNaN;
  const size_t mid = values.size() / 2;
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(mid), values.end());
  const double upper = values[mid];
  if (values.size() % 2 == 1) return upper;
  const double lower = *std::max_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(mid));
  return 0.5 * (lower + upper);
}

namespace {

using SummaryValue = std::optional<double> RunSummary::*;

// value(run) − value(exact run of the same seed) over g's runs, value being the final or best
// one; n = 0 unless every run of g with a value has exactly one partner in ref with a value.
Stat paired_differences(const Comparison& c, const RunGroup& g, const RunGroup& ref, SummaryValue value) {
  std::vector<double> diffs;
  for (size_t i : g.runs) {
    const auto& v = c.summaries[i].*value;
    if (!v) continue;
    std::vector<double> partners;
    for (size_t j : same_seed_runs(c, i, ref))
      if (c.summaries[j].*value) partners.push_back(*(c.summaries[j].*value));
    if (partners.size() != 1) return {kNaN, kNaN, 0};
    diffs.push_back(*v - partners.front());
  }
  return mean_std(diffs);
}

// Throws when no run logs the metric, naming the ones they do log. The trainer's losses are always
// accepted: runs that have not evaluated yet are compared with a warning, not refused.
void check_metric_logged(const std::vector<RunMetrics>& runs, const std::string& metric) {
  if (metric == "val_loss" || metric == "train_loss") return;
  std::set<std::string> logged;
  for (const auto& run : runs)
    for (auto& key : logged_metrics(run)) logged.insert(std::move(key));
  if (logged.count(metric) != 0) return;
  throw Error("compare: --metric '{}': no run logs it; the runs' step lines carry {}", metric,
              logged.empty() ? std::string("no numeric key yet") : fmt::format("{}", fmt::join(logged, ", ")));
}

}  // namespace

Comparison compare_runs(std::vector<RunMetrics> runs, const std::string& metric, std::optional<Better> better) {
  if (runs.empty()) throw Error("compare: no runs to compare");
  if (metric.empty()) throw Error("compare: --metric is empty; give a key of the step lines, e.g. val_loss");
  check_metric_logged(runs, metric);
  Comparison c;
  c.metric = metric;
  c.better = better.value_or(metric_direction(metric));
  c.runs = std::move(runs);
  disambiguate_names(c.runs);
  std::vector<std::string> keys;
  for (const auto& run : c.runs) {
    c.configs.push_back(flatten_config(run.config));
    c.summaries.push_back(summarise(run, metric, c.better));
    keys.push_back(group_key(c.configs.back()));
  }
  for (size_t i = 0; i < c.runs.size(); ++i) {
    auto it = std::find_if(c.groups.begin(), c.groups.end(),
                           [&](const RunGroup& g) { return keys[g.runs.front()] == keys[i]; });
    if (it == c.groups.end()) {
      c.groups.push_back({});
      it = c.groups.end() - 1;
      it->label = arith_label(c.runs[i].config);
      it->exact = is_exact_arith(c.runs[i].config);
      it->family = arith_family(c.runs[i].config);
    }
    it->runs.push_back(i);
    if (auto seed = config_seed(c.runs[i].config)) it->seeds.push_back(*seed);
  }
  for (auto& g : c.groups) {
    std::vector<double> finals, bests, tps, ms;
    g.min_steps = g.max_steps = c.summaries[g.runs.front()].last_step;
    for (size_t i : g.runs) {
      const RunSummary& s = c.summaries[i];
      if (s.final_loss) finals.push_back(*s.final_loss);
      if (s.best_loss) bests.push_back(*s.best_loss);
      g.min_steps = std::min(g.min_steps, s.last_step);
      g.max_steps = std::max(g.max_steps, s.last_step);
      for (const auto& r : c.runs[i].records) {
        if (r.tokens_per_s) tps.push_back(*r.tokens_per_s);
        if (r.ms_per_step) ms.push_back(*r.ms_per_step);
      }
      if (!s.final_loss)
        c.warnings.push_back(fmt::format("run {} has no {} yet (still early in training?)", c.runs[i].name, metric));
    }
    {
      std::vector<long long> seeds = g.seeds;
      std::sort(seeds.begin(), seeds.end());
      if (std::adjacent_find(seeds.begin(), seeds.end()) != seeds.end())
        c.warnings.push_back(
            fmt::format("group {}: two runs share a seed (the same experiment twice?): its std is "
                        "not a spread over seeds",
                        arith_label(c.runs[g.runs.front()].config)));
    }
    if (g.min_steps != g.max_steps && finals.size() > 1)
      c.warnings.push_back(
          fmt::format("group {}: its runs stand at steps {} to {} (some still training?): its "
                      "mean mixes losses of different steps",
                      arith_label(c.runs[g.runs.front()].config), g.min_steps, g.max_steps));
    g.final_loss = mean_std(finals);
    g.best_loss = mean_std(bests);
    g.tokens_per_s = median(tps);
    g.ms_per_step = median(ms);
  }
  for (auto& g : c.groups)
    if (const RunGroup* ref = reference_group(c, g); ref && ref->final_loss.n > 0 && g.final_loss.n > 0) {
      if (&g != ref && (g.min_steps != ref->min_steps || g.max_steps != ref->max_steps))
        c.warnings.push_back(
            fmt::format("group {} ends at step {} but its exact reference at step {}: its Δ compares "
                        "different training lengths",
                        arith_label(c.runs[g.runs.front()].config), g.max_steps, ref->max_steps));
      g.delta = g.final_loss.mean - ref->final_loss.mean;
      g.paired_delta = paired_differences(c, g, *ref, &RunSummary::final_loss);
      if (ref->best_loss.n > 0 && g.best_loss.n > 0) g.best_delta = g.best_loss.mean - ref->best_loss.mean;
      g.paired_best_delta = paired_differences(c, g, *ref, &RunSummary::best_loss);
    }
  name_groups(c);
  for (const auto& key : differing_keys(c.configs, KeyRole::setup))
    c.warnings.push_back("runs differ in setup, compare with care — " + describe_key(c, key));
  return c;
}

}  // namespace lmul::report
