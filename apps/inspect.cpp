// lmul inspect CKPT: what a checkpoint (or an `lmul export` file) holds — tensors, step, config,
// arithmetic — and whether its checksum holds. Exit 0 for a valid file; 2 with a one-line error for
// a corrupt one (after printing what the header still tells, when it parses).
#include <algorithm>
#include <filesystem>
#include <memory>

#include <fmt/format.h>

#include "apps/commands.h"
#include "core/error.h"
#include "train/checkpoint.h"
#include "train/config.h"
#include "train/run.h"

namespace lmul::apps {

namespace {
std::string short_config(const nlohmann::json& c) {
  std::string s;
  for (const char* k :
       {"n_layer", "n_head", "n_embd", "block_size", "vocab_size", "bias", "dropout", "max_iters", "dataset"})
    if (c.contains(k))
      s += fmt::format("{}{}={}", s.empty() ? "" : " ", k, c[k].is_string() ? c[k].get<std::string>() : c[k].dump());
  return s;
}

}  // namespace

void add_inspect(CLI::App& app) {
  auto path = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand("inspect", "Show a checkpoint's tensors, step, config, arithmetic and checksum");
  cmd->add_option("checkpoint", *path, "A .safetensors written by lmul train or lmul export, or a run directory")
      ->required();
  cmd->callback([path] {
    std::string p = *path;
    if (std::filesystem::is_directory(p)) p = (std::filesystem::path(p) / "ckpt/latest.safetensors").string();
    SafetensorsFile f = SafetensorsFile::load(p);
    const auto& m = f.metadata();
    const std::string format = m.count("format") ? m.at("format") : "";
    if (format != train::kCheckpointFormat && format != train::kExportFormat)
      throw Error(
          "{}: not an lmul checkpoint (its __metadata__ has no format={} or {}; give a file written by "
          "lmul train or lmul export)",
          p, train::kCheckpointFormat, train::kExportFormat);
    nlohmann::json config;
    fmt::print("file: {}\nformat: {} version {}\n", p, format, m.count("version") ? m.at("version") : "?");
    if (format == train::kCheckpointFormat) {
      const train::LoadedCheckpoint c = train::parse_checkpoint_meta(f);
      config = c.config;
      fmt::print("step: {}\nbest val loss: {:.4f}\n", c.state.iter, c.state.best_val_loss);
    } else {
      config = nlohmann::json::parse(m.count("config") ? m.at("config") : "{}", nullptr, false);
      if (m.count("quant")) fmt::print("quantised: {}\n", m.at("quant"));
    }
    if (config.is_object()) {
      fmt::print("config: {}\n", short_config(config));
      if (config.contains("arith")) fmt::print("arith: {}\n", train::arith_summary(config["arith"], " "));
    }
    // An export's packed tensors are U8 bytes: show the weight's own shape and format beside them.
    nlohmann::json quant =
        nlohmann::json::parse(m.count("quant_tensors") ? m.at("quant_tensors") : "{}", nullptr, false);
    if (!quant.is_object()) quant = nlohmann::json::object();
    size_t bytes = 0;
    fmt::print("tensors: {}\n", f.entries().size());
    size_t width = 0;
    for (const auto& [name, e] : f.entries()) width = std::max(width, name.size());
    for (const auto& [name, e] : f.entries()) {
      std::string logical;
      if (quant.contains(name) && quant[name].is_object() && quant[name].contains("shape") &&
          quant[name]["shape"].is_array())
        logical = fmt::format("  → {} {}", quant[name].value("format", "?"), quant[name]["shape"].dump());
      fmt::print("  {:<{}} {:<8} {}{}\n", name, width, e.dtype, shape_str(e.shape), logical);
      bytes += e.end - e.begin;
    }
    fmt::print("data: {} bytes\n", bytes);
    const std::string stored = m.count("checksum") ? m.at("checksum") : "(none)";
    if (!train::checksum_holds(f)) {
      fmt::print("checksum: MISMATCH (stored {}, computed {})\n", stored, train::checkpoint_checksum(f));
      throw Error("{}: checksum mismatch: the file is corrupt (restore it, or use ckpt/best.safetensors)", p);
    }
    fmt::print("checksum: ok ({})\n", stored);
    if (format == train::kCheckpointFormat) {  // the tensors must fit the model its config describes
      train::load_run(p);
      fmt::print("tensors fit the config's model: yes\n");
    }
  });
}

}  // namespace lmul::apps
