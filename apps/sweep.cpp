// lmul sweep CONFIG.toml --arith ENTRY... | lmul sweep SWEEP_FILE.toml | lmul sweep SWEEP_DIR:
// one config trained once per arithmetic and seed into sibling run dirs, then compared (issue 6).
// Under `mpirun -np N` the runs are spread over the N processes (apps/sweep/run_claims.h).
#include <filesystem>
#include <memory>

#include "apps/commands.h"
#include "apps/sweep/run_sweep.h"
#include "apps/sweep/sweep_request.h"
#include "core/error.h"
#include "train/distributed.h"

namespace lmul::apps {

namespace {

constexpr const char* kFooter = R"(Arithmetic entries (--arith, or arith = [...] in a sweep file):
  SPEC                       the spec at the --site sites          lmul:m=4,variant=formula
  SITE=SPEC                  at one site: linear | attention | head | embedding | all
                             (all = linear+attention+head), or backward=same|exact|SPEC,
                             or modules.NAME=SPEC: one [arith.modules] row (NAME may use * globs)
  PART+SITE=SPEC...          several parts in one run              linear=pot:b=5+embedding=pot:b=5
  Sites an entry does not name keep the config's value. Entries are separate words (--arith exact
  lmul:m=4, or --arith repeated), joined by ';' or by ',': a ','-piece KEY=VALUE whose KEY is not a
  site is an option of the spec before it, so --arith exact,lmul:m=4,variant=formula,fp8:e4m3 is
  three entries. Put CONFIG before --arith.
Run dirs: SWEEP_DIR/<entry>.seed<N>, ':' written as '_' (linear=lmul_m=4.seed1); trained seed by
seed, so that every arithmetic has a result after the first seed's runs.
Sweep file: a TOML file with a [sweep] table:
  [sweep]
  config = "configs/shakespeare_char_cpu.toml"   # base config (paths relative to the working dir)
  arith = ["exact", "lmul:m=4", "attention=fp8:e4m3"]
  site = "linear"                                 # optional, as --site
  seeds = [1, 2, 3]                               # optional, as --seeds (default: the config's seed)
  set = ["max_iters=500"]                         # optional, as --set
  out = "runs/formats_sweep"                      # optional, as --out
  Options given on the command line replace the file's (--set adds to its list).
Resuming: SWEEP_DIR/sweep.toml records the sweep; `lmul sweep SWEEP_DIR` or the same command again
skips finished runs, resumes interrupted ones from ckpt/latest and starts the rest. Ctrl-C loses
no finished run.
Several processes: `mpirun -np N lmul sweep ...` trains N runs at a time, each in one process with
the config's threads; a process that finishes a run takes the next. SWEEP_DIR must be on a
filesystem every process sees (README: "Training on several processes or machines").)";

struct Args {
  std::string source;
  std::vector<std::string> arith, sets;
  std::string site, seeds, out;
  bool quiet = false;
};

// The request from a training config + options, a sweep file, or a sweep dir's sweep.toml.
sweep::SweepRequest request_from(const Args& a, const CLI::App& cmd) {
  namespace fs = std::filesystem;
  sweep::SweepRequest r;
  if (!fs::exists(a.source))
    throw Error("sweep: '{}' does not exist (give a CONFIG.toml, a sweep file or a SWEEP_DIR)", a.source);
  if (fs::is_directory(a.source)) {
    const std::string file = (fs::path(a.source) / "sweep.toml").string();
    if (!fs::exists(file))
      throw Error("sweep: '{}' is a directory without sweep.toml (give a CONFIG.toml or a sweep file)", a.source);
    r = sweep::read_sweep_file(file);
    r.out = a.source;
  } else if (sweep::is_sweep_file(a.source)) {
    r = sweep::read_sweep_file(a.source);
  } else {
    if (cmd.count("--arith") == 0)
      throw Error("sweep: {} is a training config: give the arithmetics with --arith (e.g. --arith exact lmul:m=4)",
                  a.source);
    r.config = a.source;
  }
  if (cmd.count("--arith")) r.arith = sweep::split_arith_list(a.arith);
  if (cmd.count("--site")) r.site = a.site;
  if (cmd.count("--seeds")) r.seeds = sweep::parse_seeds(a.seeds);
  if (cmd.count("--out")) r.out = a.out;
  r.sets.insert(r.sets.end(), a.sets.begin(), a.sets.end());
  return r;
}

}  // namespace

void add_sweep(CLI::App& app) {
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand(
      "sweep",
      "Train one config once per arithmetic (and seed) into sibling run dirs under a sweep dir, one "
      "after the other, resumable; then compare them (table, compare.md/json, loss.svg, report.html)");
  cmd->add_option("source", a->source,
                  "CONFIG.toml (with --arith), a sweep file ([sweep] table), or a SWEEP_DIR to resume")
      ->required();
  cmd->add_option("--arith", a->arith, "Arithmetic entries, separated by spaces, ';' or ',' (grammar below)");
  cmd->add_option("--site", a->site,
                  "Sites of bare specs: linear (default), attention, head, embedding, all "
                  "(= linear+attention+head), or several joined by '+'");
  cmd->add_option("--seeds", a->seeds, "Seeds, comma-separated (default: the config's seed): --seeds 1,2,3");
  cmd->add_option("--set", a->sets, "Override a key of the base config for every run: --set max_iters=500");
  cmd->add_option("--out", a->out, "Sweep dir (default: the config's out_dir + \"_sweep\")");
  cmd->add_flag("-q,--quiet", a->quiet, "No per-run live progress line (the sweep's lines stay)");
  cmd->footer(kFooter);
  cmd->callback([a, cmd] {
    // Under mpirun -np N (N > 1) the runs are spread over the processes; an error that stops the
    // sweep on any rank ends them all, one line.
    const std::unique_ptr<train::DataParallel> dp = train::start_data_parallel();
    try {
      sweep::run_sweep(request_from(*a, *cmd), {.quiet = a->quiet, .parallel = dp.get()});
    } catch (const std::exception& e) {
      if (dp) dp->fail(e);
      throw;
    }
  });
}

}  // namespace lmul::apps
