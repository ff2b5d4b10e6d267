// lmul export RUN_DIR|CKPT --out FILE.safetensors [--format SPEC]: inference weights, no optimizer
// state. Without a format: F32 under nanoGPT's state_dict names, loadable by PyTorch
// (load_state_dict(..., strict=False): lm_head.weight is omitted, it is tied to
// transformer.wte.weight); a MatMul-free run under the reference's names (HGRNBitForCausalLM, untied,
// scripts/matmulfree_reference.py loads it with strict=True). With a format, every 2-D weight (the Linear layers and
// the wte/wpe tables) is stored as its format's codec writes it (core/arith/export_codec.h): codes under the
// weight's name plus an F32 scale tensor "<name>.scale", or for dgq the u4 codes, "<name>.zeros",
// "<name>.group_scale" and "<name>.channel_scale"; the metadata "quant_tensors" (JSON) says, per weight, its logical
// shape and the format. Biases and LayerNorm parameters stay F32.
#include <cstring>
#include <filesystem>
#include <memory>

#include <fmt/format.h>

#include "apps/commands.h"
#include "core/arith/export_codec.h"
#include "core/error.h"
#include "train/checkpoint.h"
#include "train/run.h"

namespace lmul::apps {

void add_export(CLI::App& app) {
  struct Args {
    std::string target, out, format, which = "latest";
  };
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("export", "Write inference weights (F32, or quantised and packed with --format)");
  cmd->add_option("target", a->target, "Run directory or checkpoint file")->required();
  cmd->add_option("--out", a->out, "Output .safetensors file")->required();
  cmd->add_option("--format", a->format, arith::exportable_formats());
  cmd->add_option("--checkpoint", a->which, "latest | best (for a run directory)")
      ->capture_default_str()
      ->check(CLI::IsMember({"latest", "best"}));
  cmd->callback([a] {
    namespace fs = std::filesystem;
    std::unique_ptr<arith::ExportCodec> format;
    if (!a->format.empty()) format = arith::make_export_codec(a->format);
    train::LoadedRun run = train::load_run(a->target, {a->which, {}});
    if (run.exported)
      throw Error("{}: is already an lmul export; export from a training checkpoint (RUN_DIR or ckpt/*.safetensors)",
                  run.checkpoint);
    nn::LanguageModel& model = *run.model;

    std::vector<SafetensorsOut> t;
    std::vector<std::vector<arith::StoredTensor>> quantised;  // owns the bytes
    quantised.reserve(model.parameters().size());
    nlohmann::ordered_json quant = nlohmann::ordered_json::object();
    size_t f32_bytes = 0;
    for (auto& p : model.parameters()) {
      f32_bytes += static_cast<size_t>(p.value.numel()) * sizeof(float);
      // Only weights (2-D, decayed) are packed: the MatMul-free LM's lower_bounds table is 2-D but a gate.
      if (!format || p.value.shape().size() != 2 || !p.decay) {
        t.push_back(f32_tensor(p.name, p.value.shape(), p.value.values()));
        continue;
      }
      try {
        quantised.push_back(format->store(p.value.values(), p.value.shape()[0], p.value.shape()[1]));
      } catch (const Error& err) {
        throw Error("--format {}: weight '{}' {}: {}", a->format, p.name, shape_str(p.value.shape()), err.what());
      }
      for (const auto& q : quantised.back()) t.push_back({p.name + q.suffix, q.dtype, q.shape, q.bytes});
      quant[p.name] = {{"shape", p.value.shape()}, {"format", format->spec()}};
    }
    std::map<std::string, std::string> m = {{"format", train::kExportFormat},
                                            {"version", "1"},
                                            {"step", std::to_string(run.step)},
                                            {"config", run.stored_config.dump()}};
    if (run.config.model == "gpt") m["tied"] = "lm_head.weight=transformer.wte.weight";
    if (format) {
      m["quant"] = format->spec();
      m["quant_tensors"] = quant.dump();
    }
    m["checksum"] = train::checkpoint_checksum(t, m);
    if (const fs::path parent = fs::path(a->out).parent_path(); !parent.empty()) {
      std::error_code ec;
      fs::create_directories(parent, ec);
      if (ec) throw Error("--out {}: cannot create its directory {} ({})", a->out, parent.string(), ec.message());
    }
    save_safetensors(a->out, t, m);
    const auto size = fs::file_size(a->out);
    fmt::print("wrote {}: {} bytes ({}; F32 weights {} bytes, {:.2f}x smaller)\n", a->out, size,
               format ? format->spec() : "F32", f32_bytes, static_cast<double>(f32_bytes) / static_cast<double>(size));
  });
}

}  // namespace lmul::apps
