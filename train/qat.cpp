#include "train/qat.h"

#include <filesystem>
#include <map>

#include <fmt/format.h>

#include "core/error.h"
#include "core/safetensors.h"
#include "quant/fake_quant_gpt.h"
#include "train/init_from.h"
#include "train/integer_only.h"

namespace lmul::train {

namespace fs = std::filesystem;

namespace {
// What the frozen scales of a quantisation-aware run were calibrated on (saved beside them).
std::map<std::string, std::string> scales_metadata(const TrainConfig& c) {
  return {{"batches", std::to_string(kDefaultCalibBatches)},
          {"batch_size", std::to_string(c.batch_size)},
          {"block_size", std::to_string(c.block_size)},
          {"split", "train"},
          {"seed", std::to_string(c.seed)},
          {"momentum", fmt::format("{}", quant::kRangeMomentum)},
          {"qat", "frozen for quantisation-aware training"}};
}
}  // namespace

std::string qat_scales_path(const TrainConfig& c) {
  return (fs::path(c.out_dir) / "ckpt" / "qat_scales.safetensors").string();
}

void check_qat_config(const TrainConfig& c) {
  const std::string& f = c.source.empty() ? std::string("config") : c.source;
  if (c.model != "gpt")
    throw Error("{}: qat = true fine-tunes nanoGPT's GPT only (the integer graph); model='{}' is another architecture",
                f, c.model);
  if (c.init_from == "scratch")
    throw Error(
        "{}: qat = true fine-tunes trained weights: set init_from = \"RUN_DIR\" (a trained run), or train without "
        "qat first",
        f);
  if (c.dropout != 0.0)
    throw Error("{}: qat = true with dropout={}: the integer graph has no dropout; set dropout = 0", f, c.dropout);
  const nn::ArithConfig exact;
  if (c.arith.linear != exact.linear || c.arith.attention != exact.attention || c.arith.head != exact.head ||
      c.arith.embedding != exact.embedding || !c.arith.modules.empty() ||
      (c.arith.backward != "same" && c.arith.backward != "exact"))
    throw Error(
        "{}: qat = true runs the integer graph's own int8 arithmetic: leave every arith.* key at exact and "
        "[arith.modules] empty (the backward is fp32)",
        f);
}

std::unique_ptr<nn::LanguageModel> make_qat_model(std::unique_ptr<nn::LanguageModel> model, const TrainConfig& c,
                                                  bool resuming) {
  if (dynamic_cast<nn::GPT*>(model.get()) == nullptr)
    throw Error("{}: qat = true fine-tunes nanoGPT's GPT only; this model is another architecture", c.source);
  std::unique_ptr<nn::GPT> gpt(static_cast<nn::GPT*>(model.release()));
  const std::string path = qat_scales_path(c);
  quant::ActivationScales scales;
  if (resuming) {
    if (!fs::exists(path))
      throw Error("{}: missing: the frozen scales of this quantisation-aware run are gone; start it again", path);
    scales = quant::load_scales(path, c.n_layer).scales;
  } else {
    scales = calibrate(*gpt, c, kDefaultCalibBatches);
    std::map<std::string, std::string> meta = scales_metadata(c);
    meta["init_from"] = c.init_from;
    quant::save_scales(path, scales, std::move(meta));
  }
  auto fq = std::make_unique<quant::FakeQuantGPT>(std::move(gpt), std::move(scales), path,
                                                  static_cast<int>(c.int_weight_bits));
  fq->quantised();  // fails now, in one line, if the integer graph cannot represent the weights
  return fq;
}

void save_qat_calibration(const std::string& checkpoint, const nn::LanguageModel& model, const TrainConfig& c,
                          int64_t step) {
  const auto& fq = dynamic_cast<const quant::FakeQuantGPT&>(model);
  const SafetensorsFile file = SafetensorsFile::load(checkpoint);
  const auto it = file.metadata().find("checksum");
  std::map<std::string, std::string> meta = scales_metadata(c);
  meta["checkpoint"] = checkpoint;
  meta["checkpoint_checksum"] = it == file.metadata().end() ? "" : it->second;
  meta["step"] = std::to_string(step);
  quant::save_scales(calibration_path(checkpoint), fq.scales(), std::move(meta));
}

}  // namespace lmul::train
