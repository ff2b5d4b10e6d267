// The comparison `lmul compare` performs, callable from other subcommands (`lmul sweep` ends
// with it): read the run dirs, print the table, and with an out_dir write compare.md,
// compare.json, delta.svg (when some group has a Δ vs exact), loss.svg and report.html there.
#pragma once
#include <string>
#include <vector>

namespace lmul::apps {

struct CompareOptions {
  std::vector<std::string> run_dirs;
  std::string out_dir;                               // empty: print the table only
  std::string metric = "val_loss";                   // or any numeric key of the step lines
  bool higher_better = false, lower_better = false;  // override the metric's default direction
  bool log_y = false;
};

// Throws lmul::Error when no run dir has a logged step; warns (stderr) about skipped runs and lines.
void run_compare(const CompareOptions& options);

}  // namespace lmul::apps
