// lmul train CONFIG.toml [--set key=value]... | lmul train RUN_DIR --resume
// Under `mpirun -np N` (N > 1): data-parallel training, one process per rank (train/distributed.h).
#include <filesystem>
#include <memory>

#include <fmt/format.h>

#include "apps/commands.h"
#include "core/error.h"
#include "train/config.h"
#include "train/distributed.h"
#include "train/signals.h"
#include "train/trainer.h"

namespace lmul::apps {

namespace {

struct TrainArgs {
  std::string config;
  std::vector<std::string> sets;
  std::vector<std::string> allow_changes;
  bool resume = false, overwrite = false, quiet = false;
};

void run_train(const TrainArgs& a, train::DataParallel* dp) {
  std::string path = a.config;
  std::vector<std::string> sets = a.sets;
  if (std::filesystem::is_directory(path)) {
    if (!a.resume) throw Error("{} is a run directory: pass --resume to continue it, or give a CONFIG.toml", path);
    sets.insert(sets.begin(), "out_dir=" + path);
    path = (std::filesystem::path(path) / "config.toml").string();
    if (!std::filesystem::exists(path)) throw Error("{}: missing: '{}' is not an lmul run directory", path, a.config);
  }
  if (a.resume) sets.push_back("init_from=resume");
  train::TrainConfig c = train::load_config(path, sets);
  train::install_stop_handlers();  // SIGINT/SIGTERM: finish the step, write ckpt/latest, exit 0
  if (!a.allow_changes.empty() && !a.resume)
    throw Error("--allow-change applies to --resume only (a new run has nothing to change)");
  train::TrainOptions o;
  o.overwrite = a.overwrite;
  o.quiet = a.quiet;
  o.allow_changes = a.allow_changes;
  o.parallel = dp;
  train::train(c, o);
}

}  // namespace

void add_train(CLI::App& app) {
  auto a = std::make_shared<TrainArgs>();
  auto* cmd = app.add_subcommand("train", "Train a GPT from a TOML config (nanoGPT key names)");
  cmd->add_option("config", a->config, "CONFIG.toml, or a run directory with --resume")->required();
  cmd->add_option("--set", a->sets,
                  "Override a config key: --set key=value (tables with a dot: arith.linear=lmul:m=4)");
  cmd->add_flag("--resume", a->resume, "Continue the run in this run directory from ckpt/latest.safetensors");
  cmd->add_flag("--overwrite", a->overwrite, "Start from scratch even if out_dir already holds a run");
  cmd->add_flag("-q,--quiet", a->quiet, "No live progress line");
  cmd->add_option("--allow-change", a->allow_changes,
                  "With --resume: let this key that defines the experiment (an arith.* key, the data, the schedule, "
                  "...) differ from the run's own (repeatable; 'all' for every key)")
      ->delimiter(',');
  cmd->callback([a] {
    // Under mpirun -np N (N > 1) the run's processes; an error on any rank ends them all, one line.
    const std::unique_ptr<train::DataParallel> dp = train::start_data_parallel();
    try {
      run_train(*a, dp.get());
    } catch (const std::exception& e) {
      if (dp) dp->fail(e);
      throw;
    }
  });
}

}  // namespace lmul::apps
