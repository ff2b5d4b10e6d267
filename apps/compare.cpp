// lmul compare: compare training runs — a terminal table, and with --out a markdown/JSON table,
// an SVG of the loss curves and a self-contained HTML report.
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "apps/commands.h"
#include "apps/compare.h"
#include "apps/report/compare_table.h"
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

void run_compare(const CompareOptions& opt) {
  std::vector<report::RunMetrics> runs;
  for (const auto& dir : opt.run_dirs) {
    report::RunMetrics run = report::read_run(dir);
    for (const auto& w : run.warnings) fmt::print(stderr, "lmul: warning: {}\n", w);
    // A run with no logged step has nothing to compare (the trainer has only written its header).
    if (run.records.empty()) {
      fmt::print(stderr, "lmul: warning: {}: no logged steps in metrics.jsonl yet; run skipped\n", dir);
      continue;
    }
    runs.push_back(std::move(run));
  }
  if (runs.empty()) throw Error("compare: none of the {} run dir(s) has a logged step in metrics.jsonl", opt.run_dirs.size());

  const report::Comparison c = report::compare_runs(std::move(runs), opt.metric);
  for (const auto& w : c.warnings) fmt::print(stderr, "lmul: warning: {}\n", w);
  const report::Table table = report::compare_table(c);
  fmt::print("{}", report::format_terminal(table));
  if (opt.out_dir.empty()) return;

  const std::filesystem::path out = opt.out_dir;
  std::error_code ec;
  std::filesystem::create_directories(out, ec);
  if (ec) throw Error("compare: --out '{}': cannot create directory ({})", opt.out_dir, ec.message());
  const std::string svg = report::loss_figure_svg(c, {.log_y = opt.log_y});
  write_file(out / "compare.md", report::format_markdown(table));
  write_file(out / "compare.json", report::compare_json(c).dump(2) + "\n");
  write_file(out / "loss.svg", svg);
  write_file(out / "report.html", report::html_report(c, table, svg));
  fmt::print("wrote {0}/compare.md, {0}/compare.json, {0}/loss.svg, {0}/report.html\n", out.string());
}

void add_compare(CLI::App& app) {
  auto opt = std::make_shared<CompareOptions>();
  auto* cmd = app.add_subcommand(
      "compare",
      "Compare training runs: a table of final/best loss per arithmetic (seeds grouped as mean ± "
      "sample std, Δ against the all-exact run (± the spread of same-seed differences), median throughput), and with --out the same table "
      "as compare.md and compare.json plus loss curves (loss.svg) and a self-contained report.html");
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
                  "Loss the table's final/best/Δ columns report: val_loss (eval steps) or "
                  "train_loss (eval steps' eval_train_loss when logged, else the per-step "
                  "minibatch loss); the plot shows both train and val")
      ->check(CLI::IsMember({"val_loss", "train_loss"}))
      ->capture_default_str();
  cmd->callback([opt] { run_compare(*opt); });
}

}  // namespace lmul::apps
