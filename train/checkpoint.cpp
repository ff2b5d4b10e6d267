#include "train/checkpoint.h"

#include <algorithm>
#include <cstring>
#include <tuple>
#include <vector>

#include "core/error.h"

namespace lmul::train {

namespace {
// One header row of the checksum: name, dtype, shape, byte range.
using HeaderRow = std::tuple<std::string, std::string, Shape, size_t, size_t>;

std::string digest(std::vector<HeaderRow> rows, const std::map<std::string, std::string>& meta,
                   std::span<const std::span<const uint8_t>> data) {
  std::sort(rows.begin(), rows.end());
  std::string text;
  for (const auto& [k, v] : meta)
    if (k != "checksum") text += k + "=" + v + "\n";
  for (const auto& [name, dtype, shape, b, e] : rows)
    text += fmt::format("{} {} {} {} {}\n", name, dtype, shape_str(shape), b, e);
  uint64_t h = fnv1a64({reinterpret_cast<const uint8_t*>(text.data()), text.size()});
  for (auto d : data) h = fnv1a64(d, h);
  return fmt::format("{:016x}", h);
}

std::string meta_at(const SafetensorsFile& f, const char* key) {
  auto it = f.metadata().find(key);
  if (it == f.metadata().end()) throw Error("{}: corrupt checkpoint metadata (no '{}')", f.path(), key);
  return it->second;
}

std::string state_name(const GemmSite& s, bool forward) {
  return "arith_state." + s.name + (forward ? ".forward" : ".backward");
}
}  // namespace

std::string checkpoint_checksum(const std::vector<SafetensorsOut>& tensors,
                                const std::map<std::string, std::string>& metadata) {
  std::vector<HeaderRow> rows;
  std::vector<std::span<const uint8_t>> data;
  size_t off = 0;
  for (const auto& t : tensors) {
    rows.emplace_back(t.name, t.dtype, t.shape, off, off + t.bytes.size());
    off += t.bytes.size();
    data.push_back(t.bytes);
  }
  return digest(std::move(rows), metadata, data);
}

std::string checkpoint_checksum(const SafetensorsFile& f) {
  std::vector<HeaderRow> rows;
  for (const auto& [name, e] : f.entries()) rows.emplace_back(name, e.dtype, e.shape, e.begin, e.end);
  const std::span<const uint8_t> data[] = {f.data_section()};
  return digest(std::move(rows), f.metadata(), data);
}

bool checksum_holds(const SafetensorsFile& f) {
  auto it = f.metadata().find("checksum");
  return it != f.metadata().end() && it->second == checkpoint_checksum(f);
}

LoadedCheckpoint parse_checkpoint_meta(const SafetensorsFile& f) {
  const auto& m = f.metadata();
  auto it = m.find("format");
  if (it == m.end() || it->second != kCheckpointFormat)
    throw Error(
        "{}: not an lmul checkpoint (its __metadata__ has no format={}; give a ckpt/*.safetensors "
        "written by lmul train)",
        f.path(), kCheckpointFormat);
  LoadedCheckpoint c;
  const std::string version = m.count("version") ? m.at("version") : "?";
  if (version != std::to_string(kCheckpointVersion))
    throw Error("{}: checkpoint version {} is not supported (this lmul reads version {})", f.path(), version,
                kCheckpointVersion);
  c.version = kCheckpointVersion;
  try {
    c.state.iter = std::stoll(meta_at(f, "step"));
    c.state.best_val_loss = std::stod(meta_at(f, "best_val_loss"));
    c.state.data_rng_seed = std::stoull(meta_at(f, "data_rng_seed"));
    c.state.data_rng_counter = std::stoull(meta_at(f, "data_rng_counter"));
    c.state.dropout_rng_seed = std::stoull(meta_at(f, "dropout_rng_seed"));
    c.state.dropout_rng_counter = std::stoull(meta_at(f, "dropout_rng_counter"));
    c.config = nlohmann::json::parse(meta_at(f, "config"));
    if (!c.config.is_object()) throw Error("{}: corrupt checkpoint metadata (config is not a JSON object)", f.path());
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Error("{}: corrupt checkpoint metadata ({})", f.path(), e.what());
  }
  return c;
}

void save_checkpoint(const std::string& path, nn::LanguageModel& model, optim::AdamW* opt, const TrainState& s,
                     const nlohmann::ordered_json& config) {
  std::vector<SafetensorsOut> t;
  auto& params = model.parameters();
  for (auto& p : params) t.push_back(f32_tensor(p.name, p.value.shape(), p.value.values()));
  if (opt) {
    for (size_t i = 0; i < params.size(); ++i)
      t.push_back(f32_tensor("optim.exp_avg." + params[i].name, params[i].value.shape(), opt->exp_avg()[i].values()));
    for (size_t i = 0; i < params.size(); ++i)
      t.push_back(
          f32_tensor("optim.exp_avg_sq." + params[i].name, params[i].value.shape(), opt->exp_avg_sq()[i].values()));
  }
  std::vector<std::vector<uint8_t>> states;  // owns the bytes the tensors point into
  states.reserve(2 * model.gemm_sites().size());
  for (GemmSite* site : model.gemm_sites()) {
    for (bool fwd : {true, false}) {
      const arith::Multiplier* mul = fwd ? site->forward.get() : site->backward.get();
      if (!mul) continue;
      states.push_back(mul->state());
      if (states.back().empty()) continue;
      t.push_back({state_name(*site, fwd), "U8", {static_cast<int64_t>(states.back().size())}, states.back()});
    }
  }
  std::map<std::string, std::string> meta = {
      {"format", kCheckpointFormat},
      {"version", std::to_string(kCheckpointVersion)},
      {"step", std::to_string(s.iter)},
      {"optimizer_steps", std::to_string(opt ? opt->steps() : 0)},
      {"best_val_loss", fmt::format("{:.17g}", s.best_val_loss)},
      {"data_rng_seed", std::to_string(s.data_rng_seed)},
      {"data_rng_counter", std::to_string(s.data_rng_counter)},
      {"dropout_rng_seed", std::to_string(s.dropout_rng_seed)},
      {"dropout_rng_counter", std::to_string(s.dropout_rng_counter)},
      {"config", config.dump()},
      {"arith", config.contains("arith") ? config["arith"].dump() : "{}"},
  };
  meta["checksum"] = checkpoint_checksum(t, meta);
  save_safetensors(path, t, meta);
}

LoadedCheckpoint read_checkpoint_meta(const std::string& path) {
  SafetensorsFile f = SafetensorsFile::load(path);
  LoadedCheckpoint c = parse_checkpoint_meta(f);
  if (!checksum_holds(f))
    throw Error("{}: checksum mismatch: the file is corrupt (restore it, or resume from ckpt/best.safetensors)", path);
  return c;
}

LoadedCheckpoint load_checkpoint(const std::string& path, nn::LanguageModel& model, const LoadOptions& o) {
  return load_checkpoint(SafetensorsFile::load(path), model, o);
}

LoadedCheckpoint load_checkpoint(const SafetensorsFile& f, nn::LanguageModel& model, const LoadOptions& o) {
  const std::string& path = f.path();
  LoadedCheckpoint c = parse_checkpoint_meta(f);
  if (!checksum_holds(f))
    throw Error("{}: checksum mismatch: the file is corrupt (restore it, or resume from ckpt/best.safetensors)", path);
  auto& params = model.parameters();
  auto copy = [&](const std::string& name, Tensor& dst) {
    const Shape& want = dst.shape();
    if (!f.has(name)) throw Error("{}: no tensor '{}': the checkpoint is from another model shape", path, name);
    const auto& e = f.entry(name);
    if (e.dtype != "F32") throw Error("{}: tensor '{}' is {}, expected F32", path, name, e.dtype);
    if (e.shape != want)
      throw Error("{}: tensor '{}' has shape {} but the model expects {} (another model shape)", path, name,
                  shape_str(e.shape), shape_str(want));
    auto b = f.bytes(name);
    std::memcpy(dst.data(), b.data(), b.size());
  };
  for (auto& p : params) copy(p.name, p.value);
  if (o.opt) {
    for (size_t i = 0; i < params.size(); ++i) copy("optim.exp_avg." + params[i].name, o.opt->exp_avg()[i]);
    for (size_t i = 0; i < params.size(); ++i) copy("optim.exp_avg_sq." + params[i].name, o.opt->exp_avg_sq()[i]);
    try {
      o.opt->set_steps(std::stoll(meta_at(f, "optimizer_steps")));
    } catch (const Error&) {
      throw;
    } catch (const std::exception&) {
      throw Error("{}: corrupt checkpoint metadata (optimizer_steps)", path);
    }
  }
  if (o.arith_state) {
    for (GemmSite* site : model.gemm_sites()) {
      for (bool fwd : {true, false}) {
        arith::Multiplier* mul = fwd ? site->forward.get() : site->backward.get();
        if (!mul) continue;
        const std::string name = state_name(*site, fwd);
        if (f.has(name)) {
          if (f.entry(name).dtype != "U8")
            throw Error("{}: tensor '{}' is {}, expected U8", path, name, f.entry(name).dtype);
          mul->set_state(f.bytes(name));
        } else if (!mul->state().empty()) {
          throw Error("{}: no tensor '{}': the checkpoint was written with another arithmetic than {}", path, name,
                      mul->spec());
        }
      }
    }
  }
  return c;
}

}  // namespace lmul::train
