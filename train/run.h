// A trained model back from disk: the one sequence every subcommand that reads a run uses —
// resolve the run directory or file, read and verify it, take its stored config (plus overrides),
// build the model it describes, load the weights.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "nn/language_model.h"
#include "train/config.h"

namespace lmul::train {

// A run directory's checkpoint (ckpt/<which>.safetensors) or the file itself. Throws lmul::Error
// naming the missing path and how to get it.
std::string resolve_checkpoint(const std::string& path, const std::string& which = "latest");

struct LoadRunOptions {
  std::string which = "latest";        // latest | best, for a run directory
  std::vector<std::string> overrides;  // "key=value" on top of the stored config (not shape keys)
};

struct LoadedRun {
  std::string checkpoint;     // the file read
  bool exported = false;      // an `lmul export` file: inference weights, no optimizer state
  std::string export_format;  // its packed format ("fp8:e4m3", ...), empty for F32 weights
  int64_t step = 0;
  double best_val_loss = 0;                  // training checkpoints only
  nlohmann::json stored_config;              // the config as the file stores it
  TrainConfig config;                        // the config stored with the weights, then the overrides
  std::unique_ptr<nn::LanguageModel> model;  // weights loaded, evaluation mode
};

// Reads a training checkpoint or an export (packed weights decoded). The arithmetic state is
// restored when the arithmetic is the one it was saved with. Throws lmul::Error for a corrupt or
// foreign file, a checksum mismatch, or an override of a key that fixes the model's shape.
LoadedRun load_run(const std::string& path, const LoadRunOptions& options = {});

}  // namespace lmul::train
