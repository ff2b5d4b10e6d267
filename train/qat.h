// qat = true: quantisation-aware fine-tuning of the integer-only GPT in the trainer. The model
// trains as quant::FakeQuantGPT (its forward the integer graph's values, its backward the fp32
// one, straight through), starting from init_from's weights. The activation scales are calibrated
// once, on those weights (kDefaultCalibBatches training batches of this run's data and seed), and
// frozen: saved as ckpt/qat_scales.safetensors when the run starts (a resume reads them back), and
// beside every checkpoint it writes as <checkpoint>.calibration.safetensors with the checkpoint's
// checksum — the file `lmul eval|sample RUN --integer-only` uses, so the integer-only model they
// evaluate is the one that was trained, and its loss is the one the run logged.
#pragma once
#include <memory>
#include <string>

#include "nn/language_model.h"
#include "train/config.h"

namespace lmul::train {

// ckpt/qat_scales.safetensors of the run directory.
std::string qat_scales_path(const TrainConfig& c);

// What a QAT run needs of its config, checked before the run starts: a start from trained weights
// (init_from = RUN_DIR, or resume), no dropout, the exact arithmetic (the integer graph brings its
// own). Throws lmul::Error, one line naming the key and the fix.
void check_qat_config(const TrainConfig& c);

// Wraps the GPT (weights loaded) as the fake-quant model: scales calibrated and saved (a new run)
// or read back (resuming). Throws lmul::Error for a model that is not nanoGPT's GPT, missing or
// foreign scales on resume, or weights and scales the integer graph cannot represent.
std::unique_ptr<nn::LanguageModel> make_qat_model(std::unique_ptr<nn::LanguageModel> model, const TrainConfig& c,
                                                  bool resuming);

// After a checkpoint of a QAT run is written: the frozen scales beside it, under its checksum.
void save_qat_calibration(const std::string& checkpoint, const nn::LanguageModel& model, const TrainConfig& c,
                          int64_t step);

}  // namespace lmul::train
