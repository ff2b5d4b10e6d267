// `--integer-only` for the subcommands that read a trained run (lmul eval, lmul sample): the run's
// GPT becomes an integer-only model (quant/) with activation scales calibrated on training
// batches and saved beside the checkpoint, `<checkpoint>.calibration.safetensors`
// (ckpt/latest.calibration.safetensors for a run directory). The file records the checkpoint's
// checksum: a calibration of another checkpoint is never used.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "nn/gpt.h"
#include "quant/activation_scales.h"
#include "train/config.h"
#include "train/run.h"

namespace lmul::train {

inline constexpr int64_t kDefaultCalibBatches = 10;

// ckpt/latest.safetensors → ckpt/latest.calibration.safetensors.
std::string calibration_path(const std::string& checkpoint);

// The scales of the fp32 model on `batches` batches of the run's training split (batch_size ×
// block_size, the evaluation stream of the train split at the config's seed: the same batches
// every time, so the same scales).
quant::ActivationScales calibrate(const nn::GPT& model, const TrainConfig& c, int64_t batches);

struct IntegerOnlyOptions {
  std::string target;                  // as the user named it (for the messages)
  std::vector<std::string> overrides;  // the --set options (no arith.* with --integer-only)
  int64_t calib_batches = 0;           // 0: the saved calibration, or kDefaultCalibBatches if there is none
  bool may_calibrate = true;           // false (sample): a missing or stale calibration is an error
};

struct IntegerOnlyInfo {
  std::string calibration;  // the file used
  int64_t calib_batches = 0;
  bool calibrated_now = false;
};

// Replaces run.model by the integer-only model. Throws lmul::Error (exit 2) for an --set arith.*
// override, a model that is not nanoGPT's GPT or that the integer graph cannot represent, a missing
// or stale calibration when it may not calibrate, and a calibration whose scales break Shiftmax or
// ShiftGELU.
IntegerOnlyInfo make_integer_only(LoadedRun& run, const IntegerOnlyOptions& options);

}  // namespace lmul::train
