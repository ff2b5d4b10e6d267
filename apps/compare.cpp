// lmul compare: compare training runs — a terminal table, and with --out a markdown/JSON table,
// an SVG of the loss curves and a self-contained HTML report.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "apps/commands.h"
#include "apps/compare.h"
#include "apps/report/compare_table.h"
#include "apps/report/delta_figure.h"
#include "apps/report/html_report.h"
#include "apps/report/loss_figure.h"
#include "apps/report/run_groups.h"
#include "apps/report/run_metrics.h"
#include "core/error.h"

namespace lmul::apps {

namespace {

void write_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  out.close();
  if (!out) throw RuntimeFailure(fmt::format("compare: could not write {}", path.string()));
}

}  // namespace

// The run directories the arguments name: a run directory as it is; a directory of runs (a
// sweep's, or runs/) expands to its subdirectories that hold a metrics.jsonl, in name order; any
// other directory is skipped with a warning (`lmul compare runs/*` may catch a stray one).
std::vector<std::string> expand_run_dirs(const std::vector<std::string>& args) {
  namespace fs = std::filesystem;
  std::vector<std::string> dirs, skipped;
  for (const auto& a : args) {
    if (!fs::exists(a)) throw Error("compare: run dir '{}' does not exist", a);
    if (fs::exists(fs::path(a) / "metrics.jsonl") || !fs::is_directory(a)) {
      dirs.push_back(a);
      continue;
    }
    std::vector<std::string> inner;
    for (const auto& e : fs::directory_iterator(a))
      if (e.is_directory() && fs::exists(e.path() / "metrics.jsonl")) inner.push_back(e.path().string());
    std::sort(inner.begin(), inner.end());
    if (inner.empty()) skipped.push_back(a);
    dirs.insert(dirs.end(), inner.begin(), inner.end());
  }
  if (!dirs.empty())
    for (const auto& a : skipped)
      fmt::print(stderr,
                 "lmul: warning: {}: neither a run directory (no metrics.jsonl) nor a directory of runs; "
                 "skipped\n",
                 a);
  if (dirs.empty())
    throw Error(
        "compare: none of {} is a run directory or holds run directories (each has a "
        "metrics.jsonl written by lmul train)",
        fmt::join(args, ", "));
  return dirs;
}

void run_compare(const CompareOptions& opt) {
  const std::filesystem::path out = opt.out_dir;
  if (!opt.out_dir.empty() && std::filesystem::exists(out) && !std::filesystem::is_directory(out))
    throw Error("compare: --out '{}': exists and is not a directory (give a directory)", opt.out_dir);
  std::vector<report::RunMetrics> runs;
  // Printed once there is a comparison: an error is then the one line of output.
  std::vector<std::string> warnings;
  const std::vector<std::string> run_dirs = expand_run_dirs(opt.run_dirs);
  for (const auto& dir : run_dirs) {
    report::RunMetrics run = report::read_run(dir);
    if (!run.arith_changed_at.empty()) run.name += fmt::format(" [arith changed at step {}]", run.arith_changed_at);
    warnings.insert(warnings.end(), run.warnings.begin(), run.warnings.end());
    // A run with no logged step has nothing to compare (the trainer has only written its header).
    if (run.records.empty()) {
      warnings.push_back(fmt::format("{}: no logged steps in metrics.jsonl yet; run skipped", dir));
      continue;
    }
    runs.push_back(std::move(run));
  }
  if (runs.empty())
    throw Error("compare: none of the {} run dir(s) has a logged step in metrics.jsonl ({})", run_dirs.size(),
                fmt::join(run_dirs, ", "));

  std::optional<report::Better> better;
  if (opt.higher_better) better = report::Better::higher;
  if (opt.lower_better) better = report::Better::lower;
  const report::Comparison c = report::compare_runs(std::move(runs), opt.metric, better);
  warnings.insert(warnings.end(), c.warnings.begin(), c.warnings.end());
  for (const auto& w : warnings) fmt::print(stderr, "lmul: warning: {}\n", w);
  const report::Table table = report::compare_table(c);
  std::error_code ec;
  if (!opt.out_dir.empty()) std::filesystem::create_directories(out, ec);
  if (ec) throw Error("compare: --out '{}': cannot create directory ({})", opt.out_dir, ec.message());
  fmt::print("{}", report::format_terminal(table));
  if (opt.out_dir.empty()) return;

  const std::string svg = report::loss_figure_svg(c, {.log_y = opt.log_y});
  // The Δ summary needs an exact group to subtract; without one there is nothing to draw.
  const std::string delta_svg = report::has_delta(c) ? report::delta_figure_svg(c) : "";
  write_file(out / "compare.md", report::format_markdown(table));
  write_file(out / "compare.json", report::compare_json(c).dump(2) + "\n");
  write_file(out / "loss.svg", svg);
  std::error_code rm;
  if (!delta_svg.empty())
    write_file(out / "delta.svg", delta_svg);
  else
    std::filesystem::remove(out / "delta.svg", rm);  // not a stale one from an earlier comparison
  write_file(out / "report.html", report::html_report(c, table, svg, delta_svg));
  fmt::print("wrote {0}/compare.md, {0}/compare.json, {0}/loss.svg, {1}{0}/report.html\n", out.string(),
             delta_svg.empty() ? "" : fmt::format("{}/delta.svg, ", out.string()));
}

void add_compare(CLI::App& app) {
  auto opt = std::make_shared<CompareOptions>();
  auto* cmd = app.add_subcommand(
      "compare",
      "Compare training runs: a table of final/best loss per arithmetic (seeds grouped as mean ± "
      "sample std, Δ against the all-exact run (± the spread of same-seed differences), median throughput), and with "
      "--out the same table "
      "as compare.md and compare.json plus the Δ summary (delta.svg: each group's Δ vs exact with error bars, "
      "sorted, coloured by arithmetic family), loss curves (loss.svg) and a self-contained report.html");
  cmd->add_option("run_dirs", opt->run_dirs,
                  "Run directories (each with metrics.jsonl). Runs whose configs differ only in "
                  "seed (and bookkeeping keys such as out_dir, eval_interval) are grouped; runs "
                  "whose model, data or optimiser settings differ are compared with a warning")
      ->required();
  cmd->add_option("--out", opt->out_dir,
                  "Directory to write compare.md, compare.json, loss.svg and report.html into "
                  "(created if missing); without it only the table is printed");
  cmd->add_flag("--log-y", opt->log_y, "Plot the loss on a logarithmic y axis");
  cmd->add_option("--metric", opt->metric,
                  "What the table's final/best/Δ columns and delta.svg report: val_loss (eval "
                  "steps), train_loss (eval steps' eval_train_loss when logged, else the per-step "
                  "minibatch loss) or any other numeric key of the runs' metrics.jsonl step lines "
                  "(e.g. a task's accuracy); the loss plot shows train and val loss, and the metric "
                  "in a panel of its own when it is neither")
      ->capture_default_str();
  auto* higher = cmd->add_flag("--higher-better", opt->higher_better,
                               "The metric improves upward (best = highest, sorted highest Δ first); the "
                               "default for keys containing 'acc'");
  auto* lower = cmd->add_flag("--lower-better", opt->lower_better,
                              "The metric improves downward (best = lowest); the default for every key "
                              "without 'acc' (losses)");
  higher->excludes(lower);
  cmd->callback([opt] { run_compare(*opt); });
}

}  // namespace lmul::apps
