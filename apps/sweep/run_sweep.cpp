#include "apps/sweep/run_sweep.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "apps/compare.h"
#include "train/multiply_task.h"
#include "train/progress.h"
#include "apps/sweep/run_claims.h"
#include "apps/sweep/sweep_plan.h"
#include "train/distributed.h"
#include "train/resume.h"
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

std::string what_next(const RunStatus& s, const fs::path& run_dir) {
  switch (s.state) {
    case RunState::finished:
      return "finished earlier, skipped";
    case RunState::interrupted:
      return fmt::format("resuming at step {}", s.step);
    case RunState::fresh:
      break;
  }
  // Logged steps but no checkpoint (killed before the first one, or ckpt/latest deleted): said aloud.
  if (fs::exists(run_dir / "metrics.jsonl")) return "starting over (no ckpt/latest.safetensors to resume from)";
  return "starting";
}

// What became of each run, as SWEEP_DIR/status.json records it: "finished", "diverged" (with the
// step), "failed" (an I/O failure: the message says which file), or "pending" (not reached yet).
struct Outcome {
  std::string state = "pending";
  int64_t step = -1;
  std::string message;
};

void write_status(const SweepPlan& plan, const std::vector<Outcome>& outcomes) {
  nlohmann::ordered_json runs = nlohmann::ordered_json::array();
  for (size_t i = 0; i < plan.runs.size(); ++i) {
    nlohmann::ordered_json r{{"name", plan.runs[i].name}, {"state", outcomes[i].state}};
    if (outcomes[i].step >= 0) r["step"] = outcomes[i].step;
    if (!outcomes[i].message.empty()) r["message"] = outcomes[i].message;
    runs.push_back(std::move(r));
  }
  write_atomically(fs::path(plan.dir) / "status.json", nlohmann::ordered_json{{"runs", runs}}.dump(2) + "\n");
}

}  // namespace

// A sweep into a directory that already holds one extends it: its arithmetics and seeds stay, the
// new ones are added, and the comparison covers them all. A different base config, site or
// overrides would make the runs incomparable: that is refused.
SweepRequest extend_existing(const SweepRequest& request, const std::string& dir, bool say) {
  const fs::path file = fs::path(dir) / "sweep.toml";
  if (!fs::exists(file)) return request;
  const SweepRequest old = read_sweep_file(file.string());
  auto refuse = [&](const char* key, const std::string& was, const std::string& now) {
    throw Error(
        "sweep: {} holds a sweep with {} = {}, not {}: its runs would not be comparable (pass --out "
        "ANOTHER_DIR, or run `lmul sweep {}` to continue it)",
        dir, key, was, now, dir);
  };
  if (fs::weakly_canonical(old.config) != fs::weakly_canonical(request.config))
    refuse("config", old.config, request.config);
  if (old.site != request.site) refuse("site", old.site, request.site);
  // Overrides of keys a resume may change (how long, how often to evaluate, threads) extend the runs;
  // any other override changes what they are.
  auto defining = [](const std::vector<std::string>& sets) {
    std::vector<std::string> out;
    for (const auto& s : sets) {
      const std::string key = s.substr(0, s.find('='));
      if (std::find_if(std::begin(train::kFreeResumeKeys), std::end(train::kFreeResumeKeys),
                       [&](const char* k) { return key == k; }) == std::end(train::kFreeResumeKeys))
        out.push_back(s);
    }
    return out;
  };
  if (defining(old.sets) != defining(request.sets))
    refuse("set", fmt::format("[{}]", fmt::join(old.sets, ", ")), fmt::format("[{}]", fmt::join(request.sets, ", ")));
  SweepRequest merged = old;
  merged.out = request.out;
  merged.sets = request.sets;
  size_t added = 0;
  for (const auto& a : request.arith)
    if (std::find(merged.arith.begin(), merged.arith.end(), a) == merged.arith.end())
      merged.arith.push_back(a), ++added;
  for (auto seed : request.seeds)
    if (std::find(merged.seeds.begin(), merged.seeds.end(), seed) == merged.seeds.end())
      merged.seeds.push_back(seed), ++added;
  if (added > 0 && say)
    fmt::print(stderr,
               "lmul sweep: {} already holds a sweep: extending it (its {} arithmetic(s) and {} seed(s) "
               "stay)\n",
               dir, old.arith.size(), old.seeds.size());
  return merged;
}

namespace {

// Outcomes as text (one rank's runs, by index), for rank 0 to merge: the sweep's status.json.
std::string outcomes_text(const std::vector<Outcome>& outcomes, const std::vector<bool>& mine) {
  nlohmann::json j = nlohmann::json::array();
  for (size_t i = 0; i < outcomes.size(); ++i)
    if (mine[i]) j.push_back({i, outcomes[i].state, outcomes[i].step, outcomes[i].message});
  return j.dump();
}

void merge_outcomes(const std::string& text, std::vector<Outcome>& outcomes) {
  for (const auto& o : nlohmann::json::parse(text))
    outcomes.at(o[0].get<size_t>()) = {o[1].get<std::string>(), o[2].get<int64_t>(), o[3].get<std::string>()};
}

// What every rank must agree on before runs are spread over them: the sweep as recorded, every
// run's resolved config and state, and the dataset (as `mpirun lmul train` checks it).
uint64_t sweep_identity_hash(const std::string& recorded, std::vector<train::TrainConfig>& configs,
                             const std::vector<RunStatus>& status) {
  std::string text = recorded;
  for (size_t i = 0; i < configs.size(); ++i)
    text += fmt::format("{}\n{} {}\n", train::to_json(configs[i]).dump(), static_cast<int>(status[i].state),
                        status[i].step);
  return train::run_identity_hash(text, configs.empty() ? std::string() : configs.front().dataset);
}

}  // namespace

void run_sweep(const SweepRequest& given, const SweepOptions& options) {
  train::DataParallel* const dp = options.parallel;
  const bool root = !dp || dp->root();
  // Everything that can be wrong with the request is found here, before the first run starts.
  const SweepRequest request = extend_existing(given, plan_sweep(given).dir, root);
  const SweepPlan plan = plan_sweep(request);
  std::vector<train::TrainConfig> configs = resolve_runs(plan);
  std::vector<RunStatus> status;
  for (size_t i = 0; i < plan.runs.size(); ++i) status.push_back(run_status(plan.runs[i].dir, configs[i].max_iters));
  SweepRequest asked = request;  // as resolved: the sweep dir and seeds no longer depend on the base config
  asked.out = plan.dir;
  asked.seeds = plan.seeds;
  const std::string recorded = to_sweep_toml(asked);
  // Under mpirun every rank has planned the same sweep, before rank 0 writes anything.
  if (dp)
    dp->check_same(sweep_identity_hash(recorded, configs, status),
                   "sweep (sweep file, options, configs, dataset or run dirs' state)");

  // ETA from iterations: the iterations still to train times the seconds per iteration so far.
  int64_t iters_left = 0;
  size_t finished = 0;
  for (size_t i = 0; i < plan.runs.size(); ++i) {
    if (status[i].state == RunState::finished)
      ++finished;
    else
      iters_left += configs[i].max_iters - status[i].step;
  }
  const size_t total = plan.runs.size();
  std::vector<Outcome> outcomes(total);
  for (size_t i = 0; i < total; ++i)
    if (status[i].state == RunState::finished) outcomes[i] = {"finished", status[i].step, ""};
  if (root) {
    std::error_code ec;
    fs::create_directories(plan.dir, ec);
    if (ec) throw Error("sweep: cannot create the sweep dir '{}' ({})", plan.dir, ec.message());
    write_atomically(fs::path(plan.dir) / "sweep.toml", recorded);
    fmt::print(stderr, "lmul sweep: {} runs in {} ({} finished earlier, {} to train{})\n", total, plan.dir, finished,
               total - finished, dp ? fmt::format(", spread over {} mpirun processes", dp->size()) : "");
    write_status(plan, outcomes);
  }
  RunClaims claims(plan.dir, dp);  // under mpirun: after rank 0 made the sweep dir
  double seconds = 0;
  int64_t iters_trained = 0;
  std::vector<bool> mine(total, false);  // the runs this process trained (all but the skipped ones, in one)
  // Under mpirun a rank sees its own speed and the runs not taken yet (those after the one it
  // takes, shared among the ranks): the ETA is that estimate.
  auto eta = [&](size_t i) {
    if (!iters_trained) return std::string("?");
    double left = static_cast<double>(iters_left);
    if (dp) {
      int64_t after = 0;
      for (size_t j = i + 1; j < total; ++j)
        if (status[j].state != RunState::finished) after += configs[j].max_iters - status[j].step;
      left = static_cast<double>(configs[i].max_iters - status[i].step) + static_cast<double>(after) / dp->size();
    }
    return train::format_duration(seconds / static_cast<double>(iters_trained) * left);
  };
  const std::string rank = dp ? fmt::format("rank {} | ", dp->rank()) : "";
  for (size_t i = 0; i < total; ++i) {
    const PlannedRun& run = plan.runs[i];
    if (status[i].state == RunState::finished) {
      if (root)
        fmt::print(stderr, "sweep {} {}/{} | ETA {} | {}{}: {}\n", bar(i, total), i, total, eta(i), rank, run.name,
                   what_next(status[i], run.dir));
      std::fflush(stderr);
      continue;
    }
    if (!claims.take(i)) continue;  // another rank trains it
    mine[i] = true;
    fmt::print(stderr, "sweep {} {}/{} | ETA {} | {}{}: {}\n", bar(i, total), i, total, eta(i), rank, run.name,
               what_next(status[i], run.dir));
    std::fflush(stderr);
    train::TrainConfig& c = configs[i];
    c.init_from = status[i].state == RunState::interrupted ? "resume" : "scratch";
    const auto t0 = Clock::now();
    try {
      // A fresh run may overwrite what a run stopped before its first checkpoint left behind.
      train::TrainOptions o;
      o.overwrite = status[i].state == RunState::fresh;
      o.quiet = options.quiet;
      train::train(c, o);
      outcomes[i] = {"finished", c.max_iters, ""};
    } catch (const train::TrainingDiverged& e) {
      // A diverged run (or one that could not write its files) must not cost the runs after it.
      // lmul::Error (bad data, a checkpoint of another shape) is the user's to fix and stops the sweep.
      outcomes[i] = {"diverged", e.step, e.what()};
      fmt::print(stderr, "sweep: {} diverged: {}; going on with the next run\n", run.name, e.what());
    } catch (const RuntimeFailure& e) {
      outcomes[i] = {"failed", -1, e.what()};
      fmt::print(stderr, "sweep: {} failed: {}; going on with the next run\n", run.name, e.what());
    }
    if (!dp) write_status(plan, outcomes);  // under mpirun rank 0 writes it once all are done
    seconds += std::chrono::duration<double>(Clock::now() - t0).count();
    iters_trained += c.max_iters - status[i].step;
    iters_left -= c.max_iters - status[i].step;
  }
  if (dp) {
    dp->wait_for_all();  // a rank out of runs sleeps here until the last run ends
    const std::vector<std::string> texts = dp->gather_text(outcomes_text(outcomes, mine));
    if (!root) return;
    for (const auto& t : texts) merge_outcomes(t, outcomes);
    write_status(plan, outcomes);
  }
  std::vector<std::string> failed;  // in run order
  for (size_t i = 0; i < total; ++i) {
    if (outcomes[i].state == "diverged")
      failed.push_back(fmt::format("{} diverged at step {}", plan.runs[i].name, outcomes[i].step));
    else if (outcomes[i].state == "failed")
      failed.push_back(plan.runs[i].name);
  }
  fmt::print(stderr, "sweep {} {}/{} | {}; comparing\n", bar(total, total), total, total,
             failed.empty() ? "all runs finished" : fmt::format("{} failed", failed.size()));

  CompareOptions compare;
  for (const auto& r : plan.runs) compare.run_dirs.push_back(r.dir);
  compare.out_dir = plan.dir;
  // A generated task's runs are compared by what the task asks: the whole-answer accuracy.
  if (!configs.empty() && train::is_task_spec(configs.front().dataset)) compare.metric = "val_accuracy";
  run_compare(compare);
  if (!failed.empty())
    throw RuntimeFailure(
        fmt::format("sweep: {} of {} runs failed ({}); the comparison shows them as far as "
                    "they got, {} records each run's state; running the sweep again retries them",
                    failed.size(), total, fmt::join(failed, ", "), (fs::path(plan.dir) / "status.json").string()));
}

}  // namespace lmul::apps::sweep
