#include "apps/checkpoint.h"

#include <cstring>
#include <vector>

#include "core/error.h"
#include "core/safetensors.h"

namespace lmul::apps {

namespace {
std::string checksum(const std::vector<SafetensorsOut>& tensors) {
  std::vector<uint8_t> all;
  for (const auto& t : tensors) all.insert(all.end(), t.bytes.begin(), t.bytes.end());
  return fnv1a64_hex(all);
}

void check_header(const SafetensorsFile& f) {
  const auto& m = f.metadata();
  auto it = m.find("format");
  if (it == m.end() || it->second != kCheckpointFormat)
    throw Error("{}: not an lmul checkpoint (no format={} in its metadata)", f.path(), kCheckpointFormat);
  if (m.count("version") == 0 || m.at("version") != std::to_string(kCheckpointVersion))
    throw Error("{}: checkpoint version {} is not supported (this lmul reads version {})", f.path(),
                m.count("version") ? m.at("version") : "?", kCheckpointVersion);
  if (m.count("checksum") == 0 || fnv1a64_hex(f.data_section()) != m.at("checksum"))
    throw Error("{}: checksum mismatch: the file is corrupt (restore it or resume from another checkpoint)", f.path());
}

LoadedCheckpoint parse_meta(const SafetensorsFile& f) {
  LoadedCheckpoint c;
  const auto& m = f.metadata();
  try {
    c.state.iter = std::stoll(m.at("step"));
    c.state.best_val_loss = std::stod(m.at("best_val_loss"));
    c.state.data_rng_seed = std::stoull(m.at("data_rng_seed"));
    c.state.data_rng_counter = std::stoull(m.at("data_rng_counter"));
    c.state.dropout_rng_seed = std::stoull(m.at("dropout_rng_seed"));
    c.state.dropout_rng_counter = std::stoull(m.at("dropout_rng_counter"));
    c.config = nlohmann::json::parse(m.at("config"));
  } catch (const std::exception& e) {
    throw Error("{}: corrupt checkpoint metadata ({})", f.path(), e.what());
  }
  return c;
}
}  // namespace

void save_checkpoint(const std::string& path, nn::GPT& model, optim::AdamW* opt, const TrainState& s,
                     const nlohmann::ordered_json& config) {
  std::vector<SafetensorsOut> t;
  auto& params = model.parameters();
  for (auto& p : params) t.push_back(f32_tensor(p.name, p.value.shape(), p.value.values()));
  if (opt) {
    for (size_t i = 0; i < params.size(); ++i)
      t.push_back(f32_tensor("optim.exp_avg." + params[i].name, params[i].value.shape(), opt->exp_avg()[i].values()));
    for (size_t i = 0; i < params.size(); ++i)
      t.push_back(f32_tensor("optim.exp_avg_sq." + params[i].name, params[i].value.shape(), opt->exp_avg_sq()[i].values()));
  }
  std::map<std::string, std::string> meta = {
      {"format", kCheckpointFormat},
      {"version", std::to_string(kCheckpointVersion)},
      {"step", std::to_string(s.iter)},
      {"optimizer_steps", std::to_string(opt ? opt->steps() : 0)},
      {"best_val_loss", fmt::format("{:.9g}", s.best_val_loss)},
      {"data_rng_seed", std::to_string(s.data_rng_seed)},
      {"data_rng_counter", std::to_string(s.data_rng_counter)},
      {"dropout_rng_seed", std::to_string(s.dropout_rng_seed)},
      {"dropout_rng_counter", std::to_string(s.dropout_rng_counter)},
      {"config", config.dump()},
      {"arith", config.contains("arith") ? config["arith"].dump() : "{}"},
      {"checksum", checksum(t)},
  };
  save_safetensors(path, t, meta);
}

LoadedCheckpoint read_checkpoint_meta(const std::string& path) {
  SafetensorsFile f = SafetensorsFile::load(path);
  check_header(f);
  return parse_meta(f);
}

LoadedCheckpoint load_checkpoint(const std::string& path, nn::GPT& model, optim::AdamW* opt) {
  SafetensorsFile f = SafetensorsFile::load(path);
  check_header(f);
  LoadedCheckpoint c = parse_meta(f);
  auto& params = model.parameters();
  auto copy = [&](const std::string& name, Tensor& dst) {
    const Shape& want = dst.shape();
    if (!f.has(name))
      throw Error("{}: no tensor '{}': the checkpoint is from another model shape", path, name);
    if (f.entry(name).shape != want)
      throw Error("{}: tensor '{}' has shape {} but the model expects {} (another model shape)", path,
                  name, shape_str(f.entry(name).shape), shape_str(want));
    auto v = f.f32(name, &want);
    std::memcpy(dst.data(), v.data(), v.size() * sizeof(float));
  };
  for (auto& p : params) copy(p.name, p.value);
  if (opt) {
    for (size_t i = 0; i < params.size(); ++i) copy("optim.exp_avg." + params[i].name, opt->exp_avg()[i]);
    for (size_t i = 0; i < params.size(); ++i) copy("optim.exp_avg_sq." + params[i].name, opt->exp_avg_sq()[i]);
    try {
      opt->set_steps(std::stoll(f.metadata().at("optimizer_steps")));
    } catch (const std::exception&) {
      throw Error("{}: corrupt checkpoint metadata (optimizer_steps)", path);
    }
  }
  return c;
}

}  // namespace lmul::apps
