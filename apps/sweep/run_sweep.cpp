#include "apps/sweep/run_sweep.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "apps/compare.h"
#include "train/progress.h"
#include "apps/sweep/sweep_plan.h"
#include "train/trainer.h"
#include "core/error.h"

namespace lmul::apps::sweep {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

// Writes via a temporary file and a rename, so an interrupted sweep never leaves half a sweep.toml.
void write_atomically(const fs::path& path, const std::string& text) {
  const fs::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary);
    out << text;
    out.close();
    if (!out) throw RuntimeFailure(fmt::format("sweep: could not write {}", tmp.string()));
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) throw RuntimeFailure(fmt::format("sweep: could not write {} ({})", path.string(), ec.message()));
}

// "[######--------------]": the share of runs done out of 20 cells.
std::string bar(size_t done, size_t total) {
  const size_t cells = 20, full = total ? done * cells / total : cells;
  std::string s(cells + 2, '-');  // built in place: GCC 12 warns falsely on "[" + std::string (PR 105651)
  s.front() = '[';
  s.back() = ']';
  std::fill_n(s.begin() + 1, full, '#');
  return s;
}

std::string what_next(const RunStatus& s) {
  switch (s.state) {
    case RunState::finished: return "finished earlier, skipped";
    case RunState::interrupted: return fmt::format("resuming at step {}", s.step);
    case RunState::fresh: break;
  }
  return "starting";
}

}  // namespace

void run_sweep(const SweepRequest& request, const SweepOptions& options) {
  // Everything that can be wrong with the request is found here, before the first run starts.
  const SweepPlan plan = plan_sweep(request);
  std::vector<train::TrainConfig> configs = resolve_runs(plan);
  std::vector<RunStatus> status;
  for (size_t i = 0; i < plan.runs.size(); ++i) status.push_back(run_status(plan.runs[i].dir, configs[i].max_iters));

  std::error_code ec;
  fs::create_directories(plan.dir, ec);
  if (ec) throw Error("sweep: cannot create the sweep dir '{}' ({})", plan.dir, ec.message());
  SweepRequest asked = request;  // as resolved: the sweep dir and seeds no longer depend on the base config
  asked.out = plan.dir;
  asked.seeds = plan.seeds;
  write_atomically(fs::path(plan.dir) / "sweep.toml", to_sweep_toml(asked));

  // ETA from iterations: the iterations still to train times the seconds per iteration so far.
  int64_t iters_left = 0;
  size_t finished = 0;
  for (size_t i = 0; i < plan.runs.size(); ++i) {
    if (status[i].state == RunState::finished) ++finished;
    else iters_left += configs[i].max_iters - status[i].step;
  }
  const size_t total = plan.runs.size();
  fmt::print(stderr, "lmul sweep: {} runs in {} ({} finished earlier, {} to train)\n", total, plan.dir, finished,
             total - finished);
  double seconds = 0;
  int64_t iters_trained = 0;
  std::vector<std::string> failed;
  auto eta = [&] { return iters_trained ? train::format_duration(seconds / static_cast<double>(iters_trained) * static_cast<double>(iters_left)) : std::string("?"); };
  for (size_t i = 0; i < total; ++i) {
    const PlannedRun& run = plan.runs[i];
    fmt::print(stderr, "sweep {} {}/{} | ETA {} | {}: {}\n", bar(i, total), i, total, eta(), run.name, what_next(status[i]));
    std::fflush(stderr);
    if (status[i].state == RunState::finished) continue;
    train::TrainConfig& c = configs[i];
    c.init_from = status[i].state == RunState::interrupted ? "resume" : "scratch";
    const auto t0 = Clock::now();
    try {
      // A fresh run may overwrite what a run stopped before its first checkpoint left behind.
      train::TrainOptions o;
      o.overwrite = status[i].state == RunState::fresh;
      o.quiet = options.quiet;
      train::train(c, o);
    } catch (const RuntimeFailure& e) {
      // A diverged run (or one that could not write its files) must not cost the runs after it.
      // lmul::Error (bad data, a checkpoint of another shape) is the user's to fix and stops the sweep.
      failed.push_back(run.name);
      fmt::print(stderr, "sweep: {} failed: {}; going on with the next run\n", run.name, e.what());
    }
    seconds += std::chrono::duration<double>(Clock::now() - t0).count();
    iters_trained += c.max_iters - status[i].step;
    iters_left -= c.max_iters - status[i].step;
  }
  fmt::print(stderr, "sweep {} {}/{} | {}; comparing\n", bar(total, total), total, total,
             failed.empty() ? "all runs finished" : fmt::format("{} failed", failed.size()));

  CompareOptions compare;
  for (const auto& r : plan.runs) compare.run_dirs.push_back(r.dir);
  compare.out_dir = plan.dir;
  run_compare(compare);
  if (!failed.empty())
    throw RuntimeFailure(fmt::format("sweep: {} of {} runs failed ({}); the comparison shows them as far as "
                                     "they got; running the sweep again retries them",
                                     failed.size(), total, fmt::join(failed, ", ")));
}

}  // namespace lmul::apps::sweep
