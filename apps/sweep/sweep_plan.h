// A sweep request expanded into runs (one per arithmetic entry and seed, sibling dirs under the
// sweep dir), checked before anything trains, and the state each run dir is in, which decides
// whether the sweep skips, resumes or starts it.
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "apps/sweep/sweep_request.h"
#include "train/config.h"

namespace lmul::apps::sweep {

struct PlannedRun {
  std::string name;  // "linear=lmul_m=4.seed1": the entry's name and the seed
  std::string dir;   // SWEEP_DIR/name
  size_t entry = 0;  // index into SweepPlan::entries
  int64_t seed = 0;
  std::vector<std::string> overrides;  // --set list for the base config: sets, arith.*, seed, out_dir
};

struct SweepPlan {
  SweepRequest request;
  std::string dir;  // the sweep dir
  std::vector<ArithEntry> entries;
  std::vector<int64_t> seeds;    // the request's, or the base config's seed
  std::vector<PlannedRun> runs;  // seed by seed (in the given order), entries in order within each
};

// Reads the base config (with the request's sets) for the default seed and sweep dir, parses the
// arithmetic entries and expands the runs. Specs are not checked yet (resolve_runs does), so a
// sweep file naming formats this build lacks still plans. Throws lmul::Error on bad --site,
// entries, seeds, or two entries with the same run name.
SweepPlan plan_sweep(const SweepRequest& request);

// Checks every spec with arith::make_multiplier (the error names the entry and the spec), then
// resolves every run's config (validate() as `lmul train` would), and rejects two entries that
// resolve to the same arithmetic. Returns the configs in plan.runs order.
std::vector<train::TrainConfig> resolve_runs(const SweepPlan& plan);

// finished: the last metrics line is the final evaluation (step = max_iters, val_loss) and
// ckpt/latest holds step max_iters; interrupted: ckpt/latest exists but the run is not finished;
// fresh: no checkpoint (never started, or stopped before its first one: it starts over).
enum class RunState { fresh, interrupted, finished };
struct RunStatus {
  RunState state = RunState::fresh;
  int64_t step = 0;  // the checkpoint's step (where a resume continues), 0 when fresh
};
// Throws lmul::Error when the checkpoint is unreadable or already past max_iters.
RunStatus run_status(const std::filesystem::path& run_dir, int64_t max_iters);

}  // namespace lmul::apps::sweep
