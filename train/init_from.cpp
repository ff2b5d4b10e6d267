#include "train/init_from.h"

#include <filesystem>

#include "core/error.h"
#include "train/checkpoint.h"
#include "train/resume.h"

namespace lmul::train {

namespace fs = std::filesystem;

bool init_from_run(const TrainConfig& c) { return c.init_from != "scratch" && c.init_from != "resume"; }

std::string check_init_from(const TrainConfig& c) {
  const std::string where = fmt::format("{}: init_from='{}'", c.source.empty() ? "config" : c.source, c.init_from);
  if (!fs::exists(c.init_from))
    throw Error("{}: no such run directory (init_from is scratch, resume, or a trained run to fine-tune from)", where);
  const std::string path =
      fs::is_directory(c.init_from) ? (fs::path(c.init_from) / "ckpt" / "latest.safetensors").string() : c.init_from;
  if (!fs::exists(path))
    throw Error("{}: {} is missing: no checkpoint to start from (train that run first)", where, path);
  LoadedCheckpoint saved;
  try {
    saved = read_checkpoint_meta(path);
  } catch (const Error& e) {
    throw Error("{}: {}", where, e.what());
  }
  TrainConfig now = c;
  const nlohmann::ordered_json j = to_json(now);
  for (const char* key : kShapeKeys) {
    const nlohmann::json old_v = saved.config.contains(key) ? saved.config[key] : nlohmann::json();
    if (old_v != nlohmann::json(j[key]))
      throw Error("{}: {} was trained with {}={}, this config has {}={} (fine-tuning keeps the model's shape)", where,
                  path, key, old_v.dump(), key, j[key].dump());
  }
  return path;
}

void load_init_weights(const TrainConfig& c, nn::LanguageModel& model) {
  load_checkpoint(check_init_from(c), model);  // weights only: no optimizer, no arithmetic state
}

}  // namespace lmul::train
