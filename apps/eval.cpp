// lmul eval RUN_DIR|CKPT...: the loss of a trained model under any arithmetic (post-training
// quantisation): the model is built with the checkpoint's config plus --set overrides (e.g.
// arith.linear=fp8:e4m3), the weights loaded, and the loss averaged over --iters batches of the
// run's dataset drawn from the fixed evaluation generator (the batches of the training loop's
// evaluations: with the run's eval_iters and batch_size it reproduces its val_loss). An `lmul
// export` file is evaluated with its exported weights (packed codes decoded: the loss of the
// post-training-quantised weights in the exact arithmetic, or any --set arith). Several targets (the
// seeds of one experiment) are evaluated one by one, then summarised as mean ± sample std. A
// generated task's run also gets its accuracy (whole answers and per digit place) over the whole
// held-out set, and --show K prints K held-out examples. --integer-only evaluates the run's GPT as an
// integer-only model (train/integer_only.h: calibrated on training batches, scales saved beside the
// checkpoint), the loss taken from its dequantised int32 logits.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "apps/commands.h"
#include "apps/report/run_groups.h"
#include "core/error.h"
#include "core/safetensors.h"
#include "train/batch_source.h"
#include "train/evaluate.h"
#include "train/integer_only.h"
#include "train/multiply_task.h"
#include "train/task_report.h"
#include "train/run.h"

namespace lmul::apps {

namespace {
struct EvalArgs {
  std::vector<std::string> targets;
  std::string split = "val", which = "latest", dump;
  int64_t iters = 0, batch_size = 0, show = 0;
  std::vector<std::string> sets;
  bool json = false, last_token = false, integer_only = false;
  int64_t calib_batches = 0;
};

// The loss of one run dir or checkpoint file under the options; prints its line.
double eval_one(const EvalArgs& a, const std::string& target) {
  train::LoadedRun run = train::load_run(target, {a.which, a.sets});
  std::optional<train::IntegerOnlyInfo> integer;
  if (a.integer_only) integer = train::make_integer_only(run, {target, a.sets, a.calib_batches, true});
  const train::TrainConfig& c = run.config;
  const std::string& path = run.checkpoint;
  const int64_t iters = a.iters > 0 ? a.iters : c.eval_iters;
  const int64_t B = a.batch_size > 0 ? a.batch_size : c.batch_size;
  const std::unique_ptr<train::BatchSource> data = train::make_batch_source(c);
  data->check_block_size(c.block_size, path);
  if (data->vocab_size() > c.vocab_size)
    throw Error("{}: vocabulary of {} tokens does not fit the model's vocab_size={} (another dataset?)", c.dataset,
                data->vocab_size(), c.vocab_size);
  const data::Split split = a.split == "val" ? data::Split::val : data::Split::train;
  train::EvalBatches batches;
  const double loss = train::estimate_split_loss(
      *run.model, *data, split, {iters, B, c.block_size, c.seed, a.last_token, a.dump.empty() ? nullptr : &batches});
  const nlohmann::ordered_json arith = train::to_json(run.config)["arith"];
  // A generated task: whole-answer accuracy and accuracy per digit place of the product (units
  // first), over the whole held-out set unless --iters limits it.
  train::TaskReport task;
  if (data->has_answers()) {
    const int64_t rows = a.iters == 0 && split == data::Split::val ? train::MultiplyTask::kHeldOutSamples : 0;
    task = train::multiply_task_report(c, *run.model, *data, split, {iters, B, c.block_size, c.seed, false, nullptr},
                                       rows, a.show);
  } else if (a.show > 0) {
    throw Error("eval: --show needs a generated task's run (dataset = \"multiply:...\"); {} trains on {}", target,
                c.dataset);
  }
  if (!a.dump.empty()) {
    const Shape s = {iters, B, c.block_size};
    auto i32 = [&](const char* name, const std::vector<int32_t>& v) {
      return SafetensorsOut{name, "I32", s, {reinterpret_cast<const uint8_t*>(v.data()), v.size() * sizeof(int32_t)}};
    };
    save_safetensors(a.dump, {i32("x", batches.x), i32("y", batches.y)},
                     {{"split", a.split}, {"checkpoint", path}, {"loss", fmt::format("{:.17g}", loss)}});
  }
  if (a.json) {
    nlohmann::ordered_json j{{"split", a.split},
                             {"loss", loss},
                             {"iters", iters},
                             {"batch_size", B},
                             {"block_size", c.block_size},
                             {"positions", a.last_token ? "last" : "all"},
                             {"step", run.step},
                             {"checkpoint", path},
                             {"arith", arith}};
    if (run.exported) j["weights"] = run.export_format.empty() ? "F32" : run.export_format;
    if (!task.accuracy.is_null()) j["accuracy"] = task.accuracy;
    if (integer) j["integer_only"] = {{"calibration", integer->calibration}, {"calib_batches", integer->calib_batches}};
    if (integer && c.int_weight_bits != 8) j["integer_only"]["weight_bits"] = c.int_weight_bits;
    fmt::print("{}\n", j.dump());
    return loss;
  }
  std::string ar = train::arith_summary(arith, ", ");
  if (integer)
    ar = fmt::format("integer-only{}, scales {} from {} training batches{}",
                     c.int_weight_bits != 8 ? fmt::format(" W{}A8", c.int_weight_bits) : "", integer->calibration,
                     integer->calib_batches, integer->calibrated_now ? ", calibrated now" : "");
  const std::string weights =
      run.exported && !run.export_format.empty() ? fmt::format(", weights decoded from {}", run.export_format) : "";
  fmt::print("{} loss{} {:.4f} (arith: {}{}){}\n", a.split, a.last_token ? " (last token)" : "", loss, ar, weights,
             a.targets.size() > 1 ? " " + target : "");
  for (const std::string& line : task.lines(a.split)) fmt::print("{}\n", line);
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
  cmd->add_option("--checkpoint", a->which, "latest | best (for a run directory)")
      ->capture_default_str()
      ->check(CLI::IsMember({"latest", "best"}));
  cmd->add_option("--iters", a->iters, "Batches to average (default: the run's eval_iters)")
      ->check(CLI::Range(int64_t{1}, int64_t{1000000}));
  cmd->add_option("--batch-size", a->batch_size, "Sequences per batch (default: the run's batch_size)")
      ->check(CLI::Range(int64_t{1}, int64_t{1000000}));
  cmd->add_option("--set", a->sets, "Override a config key, e.g. --set arith.linear=fp8:e4m3 (not shape keys)");
  cmd->add_flag("--json", a->json, "Print one JSON object instead of the text line");
  cmd->add_flag("--last-token", a->last_token,
                "Loss at the last position of each sequence only (full block of context; the PoT paper's protocol)");
  cmd->add_option("--show", a->show,
                  "A generated task's run: print the first K held-out examples, predicted product vs true (normal "
                  "digit order)")
      ->check(CLI::Range(int64_t{0}, int64_t{100000}));
  cmd->add_flag("--integer-only", a->integer_only,
                "Evaluate the GPT as an integer-only model (int8 weights and activations, Shiftmax, ShiftGELU, "
                "I-LayerNorm; scales calibrated on training batches, saved as <checkpoint>.calibration.safetensors)");
  cmd->add_option("--calib-batches", a->calib_batches,
                  "--integer-only: calibrate on N training batches (default: the saved calibration, else 10)")
      ->check(CLI::Range(int64_t{1}, int64_t{100000}));
  cmd->add_option("--dump-batches", a->dump, "Write the evaluated ids (x, y: I32 iters×B×T) to this safetensors file");
  cmd->callback([a] {
    if (a->calib_batches > 0 && !a->integer_only)
      throw Error("eval: --calib-batches calibrates the integer-only model: add --integer-only, or drop it");
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
