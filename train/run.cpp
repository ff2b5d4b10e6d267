#include "train/run.h"

#include <cstdlib>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/safetensors.h"
#include "train/checkpoint.h"
#include "train/exported_weights.h"
#include "train/model.h"
#include "train/resume.h"

namespace lmul::train {

namespace fs = std::filesystem;

std::string resolve_checkpoint(const std::string& path, const std::string& which) {
  if (!fs::is_directory(path)) {
    if (!fs::exists(path)) throw Error("{}: no such file or run directory", path);
    return path;
  }
  const std::string p = (fs::path(path) / "ckpt" / (which + ".safetensors")).string();
  if (!fs::exists(p)) throw Error("{}: missing (train the run first, or give a checkpoint file)", p);
  return p;
}

namespace {
// Overrides may change how a model computes (its arithmetic), never what it is.
void refuse_shape_overrides(const std::vector<std::string>& overrides, const nlohmann::json& saved,
                            const std::string& path) {
  for (const std::string& o : overrides) {
    const std::string key = o.substr(0, o.find('='));
    for (const char* shape_key : kShapeKeys)
      if (key == shape_key)
        throw Error(
            "{}: --set {}: {} fixes the model's shape (the checkpoint's is {}={}); only keys such as "
            "arith.* can change for a trained model",
            path, o, key, key, saved.contains(key) ? saved[key].dump() : "?");
  }
}

std::string meta_or(const SafetensorsFile& f, const char* key, const char* fallback) {
  const auto it = f.metadata().find(key);
  return it == f.metadata().end() ? fallback : it->second;
}
}  // namespace

LoadedRun load_run(const std::string& path, const LoadRunOptions& o) {
  LoadedRun run;
  run.checkpoint = resolve_checkpoint(path, o.which);
  const SafetensorsFile file = SafetensorsFile::load(run.checkpoint);
  run.exported = meta_or(file, "format", "") == kExportFormat;
  nlohmann::json saved;
  if (run.exported) {
    saved = nlohmann::json::parse(meta_or(file, "config", ""), nullptr, false);
    if (!saved.is_object()) throw Error("{}: corrupt export metadata (config)", run.checkpoint);
    run.step = std::atoll(meta_or(file, "step", "0").c_str());
    run.export_format = meta_or(file, "quant", "");
  } else {
    const LoadedCheckpoint meta = parse_checkpoint_meta(file);  // a foreign file is named before the checksum
    saved = meta.config;
    run.step = meta.state.iter;
    run.best_val_loss = meta.state.best_val_loss;
  }
  if (!checksum_holds(file))
    throw Error("{}: checksum mismatch: the file is corrupt (restore it, or use ckpt/best.safetensors)",
                run.checkpoint);
  refuse_shape_overrides(o.overrides, saved, run.checkpoint);
  run.stored_config = saved;
  run.config = config_from_json(saved, run.checkpoint, o.overrides);
  // The stored config decides what is allocated: one that claims a model far larger than the file's
  // tensors (a corrupt or crafted file whose checksum still holds) is an error, not an allocation of
  // gigabytes. A packed export stores at least one bit per weight.
  const double held_bits = 8.0 * static_cast<double>(file.data_section().size());
  if (const double need = min_parameter_count(run.config); need > held_bits)
    throw Error(
        "{}: its config describes a model of at least {:.0f} parameters (n_layer={} n_embd={} vocab_size={} "
        "block_size={}), more than its {} bytes of tensors can hold: the file is corrupt",
        run.checkpoint, need, run.config.n_layer, run.config.n_embd, run.config.vocab_size, run.config.block_size,
        file.data_section().size());
  run.model = make_model(run.config);
  if (run.exported) {
    load_export(file, *run.model);
  } else {
    const bool same_arith = saved.value("arith", nlohmann::json()) == nlohmann::json(to_json(run.config)["arith"]);
    load_checkpoint(file, *run.model, {nullptr, same_arith});
  }
  run.model->set_training(false);
  return run;
}

}  // namespace lmul::train
