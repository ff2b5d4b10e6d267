// init_from = "RUN_DIR": a new run that starts from another run's weights — fine-tuning (e.g.
// quantisation-aware, train/qat.h). Only the weights come over, from the run's
// ckpt/latest.safetensors (or a checkpoint file named directly): the new run starts at step 0 with
// a fresh optimizer, its own schedule, data, seed and arithmetic. The model's shape must be the
// one the weights were trained with.
#pragma once
#include <string>

#include "nn/language_model.h"
#include "train/config.h"

namespace lmul::train {

// True when init_from names a run (anything but scratch | resume).
bool init_from_run(const TrainConfig& c);

// The checkpoint init_from names, checked before the run starts: it exists, is an lmul
// checkpoint, and holds the shape c describes (c.vocab_size resolved). Throws lmul::Error, one
// line naming init_from and the fix.
std::string check_init_from(const TrainConfig& c);

// Loads the weights of that checkpoint into model (same shape); the optimizer state stays fresh.
void load_init_weights(const TrainConfig& c, nn::LanguageModel& model);

}  // namespace lmul::train
