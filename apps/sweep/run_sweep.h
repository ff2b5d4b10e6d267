// Running a planned sweep: every run in turn (skipping finished ones, resuming interrupted ones),
// a progress line over the whole sweep, and at the end the comparison of all its runs.
#pragma once
#include "apps/sweep/sweep_request.h"
#include "train/distributed.h"

namespace lmul::apps::sweep {

struct SweepOptions {
  bool quiet = false;  // no per-run live progress line (the sweep's own lines stay)
  // Under `mpirun -np N`: the processes the runs are spread over (apps/sweep/run_claims.h), each
  // run trained in one process with the config's threads; nullptr: every run here, in order.
  train::DataParallel* parallel = nullptr;
};

// Plans and checks everything first (a bad spec, site, seed or key stops it before any run), then
// writes SWEEP_DIR/sweep.toml, trains, and writes compare.md, compare.json, loss.svg and
// report.html into SWEEP_DIR. A killed sweep leaves finished runs as they are; running it again
// skips them and resumes the interrupted one from its checkpoint. A run that fails at run time
// (divergence, I/O: lmul::RuntimeFailure) does not stop the others; the comparison still runs,
// then a RuntimeFailure names the failed runs. Under mpirun the same holds for the sweep as a
// whole: a rank whose run fails goes on with the next run; rank 0 writes status.json and the
// comparison once every rank is done (status.json is not updated in between); an lmul::Error on
// any rank ends every rank (DataParallel::fail).
void run_sweep(const SweepRequest& request, const SweepOptions& options);

}  // namespace lmul::apps::sweep
