// Checkpoints: safetensors with the model under nanoGPT's state_dict names, AdamW moments as
// optim.exp_avg.<name> / optim.exp_avg_sq.<name>, and in __metadata__ the format version, step,
// best val loss, RNG states, resolved config and arithmetic, and a checksum of the data section.
#pragma once
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "nn/gpt.h"
#include "optim/adamw.h"

namespace lmul::apps {

inline constexpr const char* kCheckpointFormat = "lmul-checkpoint";
inline constexpr int kCheckpointVersion = 1;

struct TrainState {
  int64_t iter = 0;  // the next iteration to run
  double best_val_loss = 1e9;
  uint64_t data_rng_seed = 0, data_rng_counter = 0;
  uint64_t dropout_rng_seed = 0, dropout_rng_counter = 0;
};

// Writes atomically (temporary file, fsync, rename, fsync dir). opt may be null (inference export).
void save_checkpoint(const std::string& path, nn::GPT& model, optim::AdamW* opt, const TrainState& state,
                     const nlohmann::ordered_json& config);

struct LoadedCheckpoint {
  TrainState state;
  nlohmann::json config;  // the resolved config it was written with
};
// Reads the metadata only (config), validating the file. Throws lmul::Error naming path and fault.
LoadedCheckpoint read_checkpoint_meta(const std::string& path);
// Loads weights (and moments when opt is given) into a model of the same shape.
LoadedCheckpoint load_checkpoint(const std::string& path, nn::GPT& model, optim::AdamW* opt);

}  // namespace lmul::apps
