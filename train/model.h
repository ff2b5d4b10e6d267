// The model a config describes: the one place where config keys become an architecture.
#pragma once
#include <memory>

#include "nn/language_model.h"
#include "train/config.h"

namespace lmul::train {

// Parameters allocated, not initialised (call init(), or load a checkpoint). c.vocab_size must be
// resolved (> 0). Throws lmul::Error for a shape the architecture cannot take.
std::unique_ptr<nn::LanguageModel> make_model(const TrainConfig& c);

}  // namespace lmul::train
