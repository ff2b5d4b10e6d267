// lmul export RUN_DIR|CKPT --out FILE.safetensors [--format SPEC]: inference weights, no optimizer
// state. Without a format: F32 under nanoGPT's state_dict names, loadable by PyTorch
// (load_state_dict(..., strict=False): lm_head.weight is omitted, it is tied to
// transformer.wte.weight). With a format, every 2-D weight (the Linear layers and the wte/wpe
// tables) is stored as codes (its format's codec, core/arith/export_codec.h) plus an F32 scale
// tensor "<name>.scale"; the metadata "quant" (JSON) says, per tensor, its logical shape and the
// format. Biases and LayerNorm parameters stay F32.
#include <cstring>
#include <filesystem>
#include <memory>

#include <fmt/format.h>

#include "apps/checkpoint.h"
#include "apps/commands.h"
#include "apps/export.h"
#include "apps/train_config.h"
#include "core/arith/export_codec.h"
#include "core/error.h"
#include "nn/gpt.h"

namespace lmul::apps {

void load_export(const SafetensorsFile& f, nn::GPT& model) {
  const auto& m = f.metadata();
  nlohmann::json quant = nlohmann::json::object();
  if (m.count("quant_tensors")) {
    quant = nlohmann::json::parse(m.at("quant_tensors"), nullptr, false);
    if (!quant.is_object()) throw Error("{}: corrupt export metadata (quant_tensors)", f.path());
  }
  for (auto& p : model.parameters()) {
    if (!f.has(p.name)) throw Error("{}: no tensor '{}': the export is from another model shape", f.path(), p.name);
    const auto& e = f.entry(p.name);
    const size_t n = static_cast<size_t>(p.value.numel());
    float* dst = p.value.data();
    if (!quant.contains(p.name)) {
      if (e.dtype != "F32" || e.shape != p.value.shape())
        throw Error("{}: tensor '{}' is {} {}, the model expects F32 {}", f.path(), p.name, e.dtype, shape_str(e.shape),
                    shape_str(p.value.shape()));
      std::memcpy(dst, f.bytes(p.name).data(), n * sizeof(float));
      continue;
    }
    std::unique_ptr<arith::ExportCodec> codec;
    try {
      codec = arith::make_export_codec(quant[p.name].at("format").get<std::string>());
      if (quant[p.name].at("shape").get<Shape>() != p.value.shape()) throw Error("shape differs from the model's");
    } catch (const std::exception& err) {
      throw Error("{}: tensor '{}': corrupt quantisation metadata ({})", f.path(), p.name, err.what());
    }
    const auto bytes = f.bytes(p.name);
    if (bytes.size() < codec->packed_size(n))
      throw Error("{}: tensor '{}' has {} bytes, too few for {} values of {}", f.path(), p.name, bytes.size(), n, codec->spec());
    const std::string scale_name = p.name + ".scale";
    if (!f.has(scale_name) || f.entry(scale_name).dtype != "F32" || f.entry(scale_name).shape != Shape{1})
      throw Error("{}: no F32 (1) tensor '{}'", f.path(), scale_name);
    const float scale = f.f32(scale_name)[0];
    codec->unpack(bytes, n, scale, dst);
  }
}

void add_export(CLI::App& app) {
  struct Args {
    std::string target, out, format, which = "latest";
  };
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("export", "Write inference weights (F32, or quantised and packed with --format)");
  cmd->add_option("target", a->target, "Run directory or checkpoint file")->required();
  cmd->add_option("--out", a->out, "Output .safetensors file")->required();
  cmd->add_option("--format", a->format, arith::exportable_formats());
  cmd->add_option("--checkpoint", a->which, "latest | best (for a run directory)")->capture_default_str()->check(CLI::IsMember({"latest", "best"}));
  cmd->callback([a] {
    namespace fs = std::filesystem;
    std::string path = a->target;
    if (fs::is_directory(path)) path = (fs::path(path) / "ckpt" / (a->which + ".safetensors")).string();
    if (!fs::exists(path)) throw Error("{}: missing (train the run first, or give a checkpoint file)", path);
    std::unique_ptr<arith::ExportCodec> format;
    if (!a->format.empty()) format = arith::make_export_codec(a->format);
    const LoadedCheckpoint meta = read_checkpoint_meta(path);
    TrainConfig c = config_from_json(meta.config, path);
    nn::GPT model(model_config(c, c.vocab_size), c.arith, 0);
    load_checkpoint(path, model);

    std::vector<SafetensorsOut> t;
    std::vector<arith::PackedWeights> quantised;  // owns the bytes
    quantised.reserve(model.parameters().size());
    nlohmann::ordered_json quant = nlohmann::ordered_json::object();
    size_t f32_bytes = 0;
    for (auto& p : model.parameters()) {
      f32_bytes += static_cast<size_t>(p.value.numel()) * sizeof(float);
      if (!format || p.value.shape().size() != 2) {
        t.push_back(f32_tensor(p.name, p.value.shape(), p.value.values()));
        continue;
      }
      quantised.push_back(format->pack(p.value.values(), p.value.shape()[0], p.value.shape()[1]));
      arith::PackedWeights& q = quantised.back();
      t.push_back({p.name, q.dtype, q.shape, q.bytes});
      t.push_back(f32_tensor(p.name + ".scale", {1}, {&q.scale, 1}));
      quant[p.name] = {{"shape", p.value.shape()}, {"format", format->spec()}};
    }
    std::map<std::string, std::string> m = {
        {"format", kExportFormat}, {"version", "1"},        {"step", std::to_string(meta.state.iter)},
        {"config", meta.config.dump()}, {"tied", "lm_head.weight=transformer.wte.weight"}};
    if (format) {
      m["quant"] = format->spec();
      m["quant_tensors"] = quant.dump();
    }
    m["checksum"] = checkpoint_checksum(t, m);
    save_safetensors(a->out, t, m);
    const auto size = fs::file_size(a->out);
    fmt::print("wrote {}: {} bytes ({}; F32 weights {} bytes, {:.2f}x smaller)\n", a->out, size,
               format ? format->spec() : "F32", f32_bytes, static_cast<double>(f32_bytes) / static_cast<double>(size));
  });
}

}  // namespace lmul::apps
