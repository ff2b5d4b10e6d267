// The comparison `lmul compare` performs, callable from other subcommands (`lmul sweep` ends
// with it): read the run dirs, print the table, and with an out_dir write compare.md,
// compare.json, loss.svg and report.html there.
#pragma once
#include <string>
#include <vector>

namespace lmul::apps {

struct CompareOptions {
  std::vector<std::string> run_dirs;
  std::string out_dir;  // empty: print the table only
  std::string metric = "val_loss";
  bool log_y = false;
};

// Throws lmul::Error when no run dir has a logged step; warns (stderr) about skipped runs and lines.
void run_compare(const CompareOptions& options);

}  // namespace lmul::apps
