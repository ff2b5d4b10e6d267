// lmul eval RUN_DIR|CKPT...: the loss of a trained model under any arithmetic (post-training
// quantisation): the model is built with the checkpoint's config plus --set overrides (e.g.
// arith.linear=fp8:e4m3), the weights loaded, and the loss averaged over --iters batches of the
// run's dataset drawn from the fixed evaluation generator (the batches of the training loop's
// evaluations: with the run's eval_iters and batch_size it reproduces its val_loss). An `lmul
// export` file is evaluated with its exported weights (packed codes decoded: the loss of the
// post-training-quantised weights in the exact arithmetic, or any --set arith). Several targets (the
// seeds of one experiment) are evaluated one by one, then summarised as mean ± sample std.
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "apps/checkpoint.h"
#include "apps/commands.h"
#include "apps/evaluate.h"
#include "apps/export.h"
#include "apps/report/run_groups.h"
#include "apps/train_config.h"
#include "core/error.h"
#include "data/token_dataset.h"
#include "nn/gpt.h"

namespace lmul::apps {

namespace {
std::string resolve_checkpoint(const std::string& path, const std::string& which) {
  namespace fs = std::filesystem;
  if (!fs::is_directory(path)) {
    if (!fs::exists(path)) throw Error("{}: no such file or run directory", path);
    return path;
  }
  const std::string p = (fs::path(path) / "ckpt" / (which + ".safetensors")).string();
  if (!fs::exists(p)) throw Error("{}: missing (train the run first, or give a checkpoint file)", p);
  return p;
}

struct EvalArgs {
  std::vector<std::string> targets;
  std::string split = "val", which = "latest", dump;
  int64_t iters = 0, batch_size = 0;
  std::vector<std::string> sets;
  bool json = false, last_token = false;
};

// The loss of one run dir or checkpoint file under the options; prints its line.
double eval_one(const EvalArgs& a, const std::string& target) {
  const std::string path = resolve_checkpoint(target, a.which);
  // A training checkpoint, or an `lmul export` file (its weights as exported, decoded if packed).
  const SafetensorsFile file = SafetensorsFile::load(path);
  const bool exported = file.metadata().count("format") && file.metadata().at("format") == kExportFormat;
  nlohmann::json saved_config;
  int64_t step = 0;
  if (exported) {
    saved_config = nlohmann::json::parse(file.metadata().count("config") ? file.metadata().at("config") : "", nullptr, false);
    if (!saved_config.is_object()) throw Error("{}: corrupt export metadata (config)", path);
    step = std::atoll(file.metadata().count("step") ? file.metadata().at("step").c_str() : "0");
  } else {
    const LoadedCheckpoint meta = parse_checkpoint_meta(file);
    saved_config = meta.config;
    step = meta.state.iter;
  }
  if (!checksum_holds(file))
    throw Error("{}: checksum mismatch: the file is corrupt (restore it, or use ckpt/best.safetensors)", path);
  TrainConfig c = config_from_json(saved_config, path, a.sets);
  const int64_t iters = a.iters > 0 ? a.iters : c.eval_iters;
  const int64_t B = a.batch_size > 0 ? a.batch_size : c.batch_size;
  data::TokenDataset data(c.dataset);
  const data::Split split = a.split == "val" ? data::Split::val : data::Split::train;
  if (data.tokens(split) <= c.block_size)
    throw Error("{}: the {} split has {} tokens, not more than block_size={}", c.dataset, a.split, data.tokens(split), c.block_size);
  if (data.vocab_size() > c.vocab_size)
    throw Error("{}: vocabulary of {} tokens does not fit the model's vocab_size={} (another dataset?)", c.dataset,
                data.vocab_size(), c.vocab_size);
  nn::GPT model(model_config(c, c.vocab_size), c.arith, static_cast<uint64_t>(c.seed));
  if (exported) {
    load_export(file, model);
  } else {
    const bool same_arith = saved_config.value("arith", nlohmann::json()) == nlohmann::json(to_json(c)["arith"]);
    load_checkpoint(path, model, {nullptr, same_arith});
  }
  EvalBatches batches;
  const double loss = estimate_split_loss(model, data, split, iters, B, c.block_size, c.seed,
                                          a.dump.empty() ? nullptr : &batches, a.last_token);
  const nlohmann::ordered_json arith = to_json(c)["arith"];
  if (!a.dump.empty()) {
    const Shape s = {iters, B, c.block_size};
    auto i32 = [&](const char* name, const std::vector<int32_t>& v) {
      return SafetensorsOut{name, "I32", s, {reinterpret_cast<const uint8_t*>(v.data()), v.size() * sizeof(int32_t)}};
    };
    save_safetensors(a.dump, {i32("x", batches.x), i32("y", batches.y)},
                     {{"split", a.split}, {"checkpoint", path}, {"loss", fmt::format("{:.17g}", loss)}});
  }
  if (a.json) {
    nlohmann::ordered_json j{{"split", a.split}, {"loss", loss},     {"iters", iters},
                             {"batch_size", B},   {"block_size", c.block_size},
                             {"positions", a.last_token ? "last" : "all"},
                             {"step", step}, {"checkpoint", path}, {"arith", arith}};
    fmt::print("{}\n", j.dump());
    return loss;
  }
  std::string ar;
  for (const auto& [k, v] : arith.items()) ar += fmt::format("{}{}={}", ar.empty() ? "" : ", ", k, v.get<std::string>());
  fmt::print("{} loss{} {:.4f} (arith: {}){}\n", a.split, a.last_token ? " (last token)" : "", loss, ar,
             a.targets.size() > 1 ? " " + target : "");
  return loss;
}

}  // namespace

void add_eval(CLI::App& app) {
  auto a = std::make_shared<EvalArgs>();
  auto* cmd = app.add_subcommand("eval", "Loss of a trained model under any arithmetic (post-training quantisation)");
  cmd->add_option("targets", a->targets,
                  "Run directories or checkpoint files (several: one line each, then mean ± std over them, e.g. the "
                  "seeds of one experiment)")
      ->required();
  cmd->add_option("--split", a->split, "val | train")->capture_default_str()->check(CLI::IsMember({"val", "train"}));
  cmd->add_option("--checkpoint", a->which, "latest | best (for a run directory)")->capture_default_str()->check(CLI::IsMember({"latest", "best"}));
  cmd->add_option("--iters", a->iters, "Batches to average (default: the run's eval_iters)")->check(CLI::Range(int64_t{1}, int64_t{1000000}));
  cmd->add_option("--batch-size", a->batch_size, "Sequences per batch (default: the run's batch_size)")->check(CLI::Range(int64_t{1}, int64_t{1000000}));
  cmd->add_option("--set", a->sets, "Override a config key, e.g. --set arith.linear=fp8:e4m3 (not shape keys)");
  cmd->add_flag("--json", a->json, "Print one JSON object instead of the text line");
  cmd->add_flag("--last-token", a->last_token,
                "Loss at the last position of each sequence only (full block of context; the PoT paper's protocol)");
  cmd->add_option("--dump-batches", a->dump, "Write the evaluated ids (x, y: I32 iters×B×T) to this safetensors file");
  cmd->callback([a] {
    if (!a->dump.empty() && a->targets.size() != 1)
      throw Error("eval: --dump-batches takes one target, not {} (drop it or evaluate the runs one by one)",
                  a->targets.size());
    std::vector<double> losses;
    for (const std::string& target : a->targets) losses.push_back(eval_one(*a, target));
    if (losses.size() < 2) return;
    const report::Stat s = report::mean_std(losses);
    if (a->json)
      fmt::print("{}\n", nlohmann::ordered_json{{"summary", {{"n", s.n}, {"mean", s.mean}, {"std", s.std}}}}.dump());
    else
      fmt::print("mean {} loss over {} targets: {:.4f} ± {:.4f} (sample std)\n", a->split, s.n, s.mean, s.std);
  });
}

}  // namespace lmul::apps
