// The comparison itself: runs that differ only by seed form a group (one experiment); each group
// gets mean ± sample std of its final and best loss, its Δ against the exact-arithmetic group
// (with the spread of the same-seed differences where the seeds pair up), and median throughput. Runs of different
// setups are still compared, with a warning.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "apps/report/run_config.h"
#include "apps/report/run_metrics.h"

namespace lmul::report {

// mean ± sample standard deviation (n − 1) of n values; std is NaN for n < 2, mean NaN for n = 0.
struct Stat {
  double mean = 0, std = 0;
  int n = 0;
};
Stat mean_std(const std::vector<double>& values);
// Median of the values (NaN when empty).
double median(std::vector<double> values);

// Which way a metric improves: losses go down, accuracies up.
enum class Better { lower, higher };
// The direction a metric's name implies: "higher" for accuracy-like keys (the name contains
// "acc": val_acc, whole_accuracy, ...), "lower" for everything else (losses, perplexity, ...).
Better metric_direction(std::string_view metric);
// True when a is better than b under the direction (NaN is never better).
bool better_than(double a, double b, Better better);

// One run's numbers for the chosen metric.
struct RunSummary {
  // Final and best value of the chosen metric (best: the lowest, or the highest for a metric where
  // higher is better); empty while the run has not logged the metric. Named "loss" because it
  // usually is one.
  std::optional<double> final_loss, best_loss;
  int64_t last_step = 0;
  double tokens_per_s = 0, ms_per_step = 0;  // medians over logged steps (NaN if never logged)
};

struct RunGroup {
  std::string label;         // arith_label of its runs
  std::string name;          // label, plus the keys that tell it from same-label groups if any
  std::vector<size_t> runs;  // indices into Comparison::runs, in command-line order
  std::vector<long long> seeds;
  std::string family;           // arith_family of its runs: "exact", "L-Mul", "fp8", "PoT", ...
  bool exact = false;           // every site exact: the reference for Δ
  Stat final_loss, best_loss;   // over the runs that have logged the metric
  std::optional<double> delta;  // final_loss.mean − the reference exact group's final_loss.mean
  // The same-seed differences final(run) − final(exact run of that seed): a seed fixes the
  // initialisation and the batch order, so these vary far less than the finals themselves. Set
  // (n ≥ 1) only when every run of the group with a final value has an exact partner of its seed;
  // its mean then equals delta when both groups have the same seeds.
  Stat paired_delta;
  // The same for the best value: best(run) − best(exact run of that seed), and the means' difference.
  std::optional<double> best_delta;
  Stat paired_best_delta;
  int64_t min_steps = 0, max_steps = 0;
  double tokens_per_s = 0, ms_per_step = 0;  // medians over all logged steps of the group
};

struct Comparison {
  std::string metric;  // "val_loss", "train_loss" or any numeric key of the step lines
  Better better = Better::lower;
  std::vector<RunMetrics> runs;
  std::vector<FlatConfig> configs;  // flattened config of each run
  std::vector<RunSummary> summaries;
  std::vector<RunGroup> groups;
  std::vector<std::string> warnings;  // about the comparison (differing setups, ...), not lines
};

// The exact group a group's Δ is measured against: the one with the same setup, else the first
// exact group; null when there is none.
const RunGroup* reference_group(const Comparison& c, const RunGroup& g);

// The runs of group ref with the same seed as run i (none when run i has no seed).
std::vector<size_t> same_seed_runs(const Comparison& c, size_t i, const RunGroup& ref);

// Groups and summarises runs (at least one). metric: "val_loss", "train_loss" (from the eval
// steps' eval_train_loss when logged, else the per-step minibatch train_loss) or any numeric key
// of the step lines; throws lmul::Error naming the keys the runs do log when none logs it.
// better: the metric's direction, metric_direction(metric) when not given. Runs with the same
// directory name in different parents are renamed "parent/name".
Comparison compare_runs(std::vector<RunMetrics> runs, const std::string& metric,
                        std::optional<Better> better = std::nullopt);

}  // namespace lmul::report
