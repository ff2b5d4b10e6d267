#include "train/integer_only.h"

#include <filesystem>
#include <memory>

#include <fmt/format.h>

#include "core/error.h"
#include "core/safetensors.h"
#include "quant/calibrate.h"
#include "quant/integer_only_model.h"
#include "quant/quantise_gpt.h"
#include "train/batch_source.h"

namespace lmul::train {

namespace fs = std::filesystem;

std::string calibration_path(const std::string& checkpoint) {
  fs::path p(checkpoint);
  const std::string stem = p.extension() == ".safetensors" ? p.stem().string() : p.filename().string();
  return (p.parent_path() / (stem + ".calibration.safetensors")).string();
}

quant::ActivationScales calibrate(const nn::GPT& model, const TrainConfig& c, int64_t batches) {
  const std::unique_ptr<BatchSource> data = make_batch_source(c);
  data->check_block_size(c.block_size, c.dataset);
  const std::unique_ptr<BatchStream> stream = data->evaluation(data::Split::train, c.seed);
  quant::Calibrator calibrator(model);
  Batch batch;
  for (int64_t k = 0; k < batches; ++k) {
    stream->next(c.batch_size, c.block_size, batch);
    calibrator.observe(batch.x, c.batch_size, c.block_size);
  }
  return calibrator.scales();
}

IntegerOnlyInfo make_integer_only(LoadedRun& run, const IntegerOnlyOptions& o) {
  for (const std::string& s : o.overrides)
    if (s.starts_with("arith."))
      throw Error(
          "--integer-only runs its own int8 arithmetic: drop --set {} (an arithmetic applies to the fp32 model)", s);
  const auto* gpt = dynamic_cast<const nn::GPT*>(run.model.get());
  if (gpt == nullptr)
    throw Error("{}: --integer-only runs nanoGPT's GPT only; this model is another architecture", run.checkpoint);
  const TrainConfig& c = run.config;
  const SafetensorsFile file = SafetensorsFile::load(run.checkpoint);
  const auto it = file.metadata().find("checksum");
  const std::string checksum = it == file.metadata().end() ? "" : it->second;

  IntegerOnlyInfo info;
  info.calibration = calibration_path(run.checkpoint);
  quant::ActivationScales scales;
  bool have = false;
  if (fs::exists(info.calibration)) {
    const quant::LoadedScales saved = quant::load_scales(info.calibration, c.n_layer);
    const auto meta = [&](const char* k) {
      const auto m = saved.metadata.find(k);
      return m == saved.metadata.end() ? std::string() : m->second;
    };
    const bool same_checkpoint = meta("checkpoint_checksum") == checksum;
    const bool same_batches = o.calib_batches == 0 || meta("batches") == std::to_string(o.calib_batches);
    if (same_checkpoint && same_batches) {
      scales = saved.scales;
      info.calib_batches = std::atoll(meta("batches").c_str());
      have = true;
    } else if (!o.may_calibrate) {
      throw Error(
          "{}: calibrated for another checkpoint (checksum {}, {} has {}); recalibrate with lmul eval {} "
          "--integer-only",
          info.calibration, meta("checkpoint_checksum"), run.checkpoint, checksum, o.target);
    }
  } else if (!o.may_calibrate) {
    throw Error(
        "{}: missing: the integer-only model needs calibrated activation scales; run lmul eval {} "
        "--integer-only first (it calibrates on training batches and saves them)",
        info.calibration, o.target);
  }
  if (!have) {
    info.calib_batches = o.calib_batches > 0 ? o.calib_batches : kDefaultCalibBatches;
    scales = calibrate(*gpt, c, info.calib_batches);
    quant::save_scales(info.calibration, scales,
                       {{"checkpoint", run.checkpoint},
                        {"checkpoint_checksum", checksum},
                        {"step", std::to_string(run.step)},
                        {"batches", std::to_string(info.calib_batches)},
                        {"batch_size", std::to_string(c.batch_size)},
                        {"block_size", std::to_string(c.block_size)},
                        {"split", "train"},
                        {"seed", std::to_string(c.seed)},
                        {"momentum", fmt::format("{}", quant::kRangeMomentum)}});
    info.calibrated_now = true;
  }
  run.model = std::make_unique<quant::IntegerOnlyModel>(
      quant::quantise_gpt(*gpt, scales, info.calibration, static_cast<int>(c.int_weight_bits)));
  return info;
}

}  // namespace lmul::train
