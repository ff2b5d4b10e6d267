// The model a config describes: the one place where config keys become an architecture.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "nn/language_model.h"
#include "train/config.h"

namespace lmul::train {

// Parameters allocated, not initialised (call init(), or load a checkpoint). c.vocab_size must be
// resolved (> 0). Throws lmul::Error for a shape the architecture cannot take.
std::unique_ptr<nn::LanguageModel> make_model(const TrainConfig& c);

// The names of the model's weight GEMM modules, as [arith.modules] names them: the checkpoint
// names of their weights without ".weight" (lm_head is tied to transformer.wte but has its own GEMM).
std::vector<std::string> gemm_module_names(const TrainConfig& c);

// A lower bound on the number of parameters of the model c describes — wte, wpe and each block's
// four weight matrices (12·n_embd²) — computed without building it: what a file that claims this
// config must at least hold.
double min_parameter_count(const TrainConfig& c);

}  // namespace lmul::train
