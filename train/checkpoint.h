// Checkpoints: safetensors with the model under nanoGPT's state_dict names, AdamW moments as
// optim.exp_avg.<name> / optim.exp_avg_sq.<name>, every stateful GEMM site's arithmetic state as
// U8 tensors arith_state.<site>.forward / .backward (only when non-empty), and in __metadata__ the
// format version, step, best val loss, the RNG states (the data RNG is the whole loader state:
// batches are random offsets drawn from it), resolved config and arithmetic, and a checksum.
//
// The checksum (FNV-1a 64) covers the data section and the header: every metadata value but the
// checksum itself and every tensor's name, dtype, shape and offsets, so a flipped byte anywhere
// that still parses is caught.
#pragma once
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "core/safetensors.h"
#include "nn/language_model.h"
#include "optim/adamw.h"

namespace lmul::train {

inline constexpr const char* kCheckpointFormat = "lmul-checkpoint";
inline constexpr const char* kExportFormat = "lmul-export";  // `lmul export`: inference weights only
// 1: weights, moments, RNG states; 2: + arithmetic state tensors, header in the checksum.
inline constexpr int kCheckpointVersion = 2;

struct TrainState {
  int64_t iter = 0;  // the next iteration to run (= optimizer steps taken)
  double best_val_loss = 1e9;
  uint64_t data_rng_seed = 0, data_rng_counter = 0;
  uint64_t dropout_rng_seed = 0, dropout_rng_counter = 0;
};

// Writes atomically (temporary file, fsync, rename, fsync dir). opt may be null (no moments).
void save_checkpoint(const std::string& path, nn::LanguageModel& model, optim::AdamW* opt, const TrainState& state,
                     const nlohmann::ordered_json& config);

struct LoadedCheckpoint {
  TrainState state;
  nlohmann::json config;  // the resolved config it was written with
  int version = 0;
};

// The checksum of a file as written (header fields + data section), 16 hex digits.
std::string checkpoint_checksum(const SafetensorsFile& f);
// The same over tensors about to be written with metadata (its "checksum" key ignored).
std::string checkpoint_checksum(const std::vector<SafetensorsOut>& tensors,
                                const std::map<std::string, std::string>& metadata);

// Parses the lmul metadata of an already read file without checking the checksum. Throws
// lmul::Error when the file is not an lmul checkpoint, of an unknown version, or malformed.
LoadedCheckpoint parse_checkpoint_meta(const SafetensorsFile& f);
bool checksum_holds(const SafetensorsFile& f);

// Reads the metadata only, validating the file and its checksum. Throws lmul::Error.
LoadedCheckpoint read_checkpoint_meta(const std::string& path);

struct LoadOptions {
  optim::AdamW* opt = nullptr;  // also restore the AdamW moments and step count
  bool arith_state = false;     // also restore the GEMM sites' arithmetic state (same arithmetic)
};
// Loads weights into a model of the same shape (validated, checksum first).
LoadedCheckpoint load_checkpoint(const std::string& path, nn::LanguageModel& model, const LoadOptions& options = {});
// The same from a file already read.
LoadedCheckpoint load_checkpoint(const SafetensorsFile& file, nn::LanguageModel& model,
                                 const LoadOptions& options = {});

}  // namespace lmul::train
