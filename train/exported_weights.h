// Reading back what `lmul export` wrote (apps/export.cpp), so `lmul eval` can measure the loss of
// the exported, possibly quantised, weights.
#pragma once
#include "core/safetensors.h"
#include "nn/language_model.h"

namespace lmul::train {

// Loads an lmul-export file into a model of its config's shape: F32 tensors as they are, packed
// tensors decoded by their format's codec (core/arith/export_codec.h). Throws lmul::Error naming the
// file and tensor on a mismatch or a stored value out of its format's range.
void load_export(const SafetensorsFile& f, nn::LanguageModel& model);

}  // namespace lmul::train
