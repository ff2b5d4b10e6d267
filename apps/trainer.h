// The training loop (nanoGPT's train.py): periodic evaluation, AdamW with warmup + cosine,
// gradient clipping and accumulation, metrics.jsonl, checkpoints, a live progress line.
#pragma once
#include <string>

#include "apps/train_config.h"

namespace lmul::apps {

struct TrainOptions {
  bool overwrite = false;  // allow a scratch run into an out_dir that already holds a run
  bool quiet = false;      // no progress line
};

struct TrainResult {
  double final_val_loss = 0, best_val_loss = 0, final_train_loss = 0;
  int64_t iters = 0;
  double median_ms_per_step = 0, tokens_per_s = 0;
  bool interrupted = false;  // stopped by SIGINT/SIGTERM after writing ckpt/latest
};

TrainResult train(TrainConfig& config, const TrainOptions& options);

}  // namespace lmul::apps
