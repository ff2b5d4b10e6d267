// The metrics.jsonl reader of `lmul compare` and what compare does with it: two run directories
// (the second's metrics.jsonl after a "%%" line; an empty part is a run dir without one), read,
// grouped and tabulated as the terminal, markdown and JSON outputs.
// Properties: a run's records have increasing steps; warnings are one line each.
#include <filesystem>

#include "apps/report/compare_table.h"
#include "apps/report/run_groups.h"
#include "apps/report/run_metrics.h"
#include "fuzz/fuzz_input.h"

using namespace lmul;
namespace fs = std::filesystem;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool made = [] {
    for (const char* run : {"runs/exact.seed1", "runs/lmul.seed2"}) fs::create_directories(fuzz::scratch() / run);
    return true;
  }();
  (void)made;
  const auto parts = fuzz::split_parts(data, size, 2);
  std::vector<report::RunMetrics> runs;
  int i = 0;
  for (const char* run : {"runs/exact.seed1", "runs/lmul.seed2"}) {
    const std::string file = fuzz::scratch() / (std::string(run) + "/metrics.jsonl");
    if (i > 0 && parts[i].empty()) {
      fs::remove(file);
    } else {
      fuzz::write_file(std::string(run) + "/metrics.jsonl", parts[i]);
    }
    ++i;
    fuzz::expect_clean([&] {
      report::RunMetrics m = report::read_run(fuzz::scratch() / run);
      for (size_t r = 1; r < m.records.size(); ++r)
        if (m.records[r].step <= m.records[r - 1].step) fuzz::fail("records out of step order");
      for (const auto& w : m.warnings)
        if (w.find('\n') != std::string::npos) fuzz::fail("a warning is not one line: " + w);
      for (const auto& metric : report::logged_metrics(m)) {
        const auto s = report::metric_series(m, metric);
        if (s.steps.size() != s.values.size()) fuzz::fail("series of unequal length");
      }
      runs.push_back(std::move(m));
    });
  }
  if (runs.empty()) return 0;
  for (const char* metric : {"val_loss", "train_loss", "acc"}) {
    fuzz::expect_clean([&] {
      const report::Comparison c = report::compare_runs(runs, metric);
      const report::Table table = report::compare_table(c);
      report::format_terminal(table);
      report::format_markdown(table);
      report::compare_json(c).dump();
    });
  }
  return 0;
}
