// The training loop (nanoGPT's train.py): periodic evaluation, AdamW with warmup + cosine,
// gradient clipping and accumulation, metrics.jsonl, checkpoints, a live progress line.
#pragma once
#include <string>
#include <vector>

#include "core/error.h"
#include "core/parameter.h"
#include "train/config.h"

namespace lmul::train {

class DataParallel;  // train/distributed.h

struct TrainOptions {
  TrainOptions(bool overwrite_ = false, bool quiet_ = false) : overwrite(overwrite_), quiet(quiet_) {}
  bool overwrite = false;  // allow a scratch run into an out_dir that already holds a run
  bool quiet = false;      // no progress line
  // The processes of a data-parallel run (mpirun -np N, N > 1), or nullptr: one process.
  DataParallel* parallel = nullptr;
  // Keys that define the experiment and may change on resume all the same ("all": any of them).
  std::vector<std::string> allow_changes;
};

struct TrainResult {
  double final_val_loss = 0, best_val_loss = 0, final_train_loss = 0;
  int64_t iters = 0;
  double median_ms_per_step = 0, tokens_per_s = 0;
  bool interrupted = false;  // stopped by SIGINT/SIGTERM after writing ckpt/latest
};

// The loss (a training step's or an evaluation's) or the weights became NaN or infinite. Thrown
// before anything non-finite is written: ckpt/latest keeps the last finite weights. `lmul` exits 3.
class TrainingDiverged : public RuntimeFailure {
 public:
  TrainingDiverged(const std::string& what, int64_t step_) : RuntimeFailure(what), step(step_) {}
  int64_t step;  // the step at which the non-finite value appeared
};

// Throws lmul::Error on bad input, TrainingDiverged when the run diverges, RuntimeFailure on I/O
// failures (disk full: the message names the file; the previous checkpoint stays as it was).
TrainResult train(TrainConfig& config, const TrainOptions& options);

}  // namespace lmul::train
