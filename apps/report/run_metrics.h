// Reading a run directory (the trainer's contract, docs/ARCHITECTURE.md §5): RUN_DIR/metrics.jsonl holds a
// header object {"config": {...}} and then one object per logged step. The file may still be
// growing and may hold a truncated last line or garbage lines: those are skipped and reported as
// warnings ("file:line: why"), never fatal.
#pragma once
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace lmul::report {

// One logged step. A field is empty when the line did not carry it (val_loss appears only on eval
// steps); a field that is present but null, NaN or ±Infinity holds NaN (a diverged run).
struct StepRecord {
  int64_t step = 0;
  std::optional<double> train_loss, val_loss, eval_train_loss, lr, ms_per_step, tokens_per_s, grad_norm;
  // Every other numeric field of the line (a task's accuracy, ...), so that any logged number can
  // be compared; null → NaN as above. Fields that are not numbers are left out.
  std::map<std::string, double, std::less<>> other;
};

struct RunMetrics {
  std::filesystem::path dir;
  std::string name;                   // the directory's own name, e.g. "lmul4_seed1"
  nlohmann::json config;              // the header's "config" (or config.toml as fallback); {} if none
  std::vector<StepRecord> records;    // increasing step; a resumed run's re-logged steps replace
                                      // the earlier ones from that step on
  std::vector<std::string> warnings;  // "path:line: what was skipped and why"
  // The step where a resume changed the run's arithmetic ("" if it never did): its curve mixes two.
  std::string arith_changed_at;
};

// Reads dir/metrics.jsonl. Throws lmul::Error (one line, naming the path) when dir does not exist,
// is not a directory or holds no metrics.jsonl. Bad lines become warnings.
RunMetrics read_run(const std::filesystem::path& dir);

// The values of one metric ("val_loss", "train_loss", or any other numeric field of the step
// lines) in step order, with their steps.
struct MetricSeries {
  std::vector<double> steps, values;
};
MetricSeries metric_series(const RunMetrics& run, const std::string& metric);

// The numeric fields the run's step lines carry (at least once), sorted by name.
std::vector<std::string> logged_metrics(const RunMetrics& run);

}  // namespace lmul::report
