// lmul sample RUN_DIR|CKPT: autoregressive generation with temperature and top-k (nanoGPT's
// sample.py), from the model the checkpoint's stored config describes. A generated task's run
// (multiply) takes a prompt of its own tokens ("123*456=") and by default generates the 2n answer
// digits, greedily unless --temperature/--top-k say otherwise. --integer-only samples from the
// integer-only model with the calibration `lmul eval RUN --integer-only` saved (train/integer_only.h).
// A model that carries its state (the MatMul-free LM's recurrence) is fed the prompt once and then one
// token per step, beyond block_size too; the GPT re-runs its last block_size tokens per step.
#include <algorithm>
#include <cstdio>
#include <memory>

#include <fmt/format.h>

#include "apps/commands.h"
#include "core/autograd.h"
#include "core/error.h"
#include "data/tokenizer.h"
#include "nn/sampling.h"
#include "train/batch_source.h"
#include "train/integer_only.h"
#include "train/multiply_task.h"
#include "train/run.h"

namespace lmul::apps {

void add_sample(CLI::App& app) {
  struct Args {
    std::string target, prompt = "\n", checkpoint = "latest";
    std::vector<std::string> sets;
    int64_t max_new_tokens = 500, seed = 1337, num_samples = 1;
    nn::SamplingOptions sampling;
    bool integer_only = false;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("sample", "Generate text from a trained run");
  cmd->add_option("target", a->target, "Run directory, or a checkpoint / export file")->required();
  cmd->add_option("--prompt", a->prompt, "Text to continue (default: a newline)");
  cmd->add_option("--max-new-tokens", a->max_new_tokens, "Tokens to generate")
      ->capture_default_str()
      ->check(CLI::Range(0, 1000000));
  cmd->add_option("--temperature", a->sampling.temperature, "Softmax temperature (> 0)")
      ->capture_default_str()
      ->check(CLI::Range(1e-4, 100.0));
  cmd->add_option("--top-k", a->sampling.top_k, "Sample among the k most likely tokens (0: all)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--seed", a->seed, "Sampling seed")->capture_default_str();
  cmd->add_option("--num-samples", a->num_samples, "Independent samples")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  cmd->add_option("--checkpoint", a->checkpoint, "latest | best (for a run directory)")
      ->capture_default_str()
      ->check(CLI::IsMember({"latest", "best"}));
  cmd->add_option("--set", a->sets, "Override a config key, e.g. --set arith.linear=fp8:e4m3 (not shape keys)");
  cmd->add_flag("--integer-only", a->integer_only,
                "Sample from the integer-only model (needs the calibration lmul eval RUN --integer-only saves)");
  cmd->callback([a, cmd] {
    train::LoadedRun run = train::load_run(a->target, {a->checkpoint, a->sets});
    std::string calibration;
    if (a->integer_only) calibration = train::make_integer_only(run, {a->target, a->sets, 0, false}).calibration;
    const train::TrainConfig& c = run.config;
    const auto tokenizer = train::make_tokenizer(c);
    if (train::is_task_spec(c.dataset)) {
      const train::MultiplyTask task = train::parse_multiply_task(c.dataset);
      if (cmd->count("--prompt") == 0)
        throw Error("sample: {} is a {} run: give a prompt of the task, e.g. --prompt \"{}*{}=\"", a->target, c.dataset,
                    std::string(static_cast<size_t>(task.digits), '1'),
                    std::string(static_cast<size_t>(task.digits), '2'));
      if (cmd->count("--max-new-tokens") == 0) a->max_new_tokens = 2 * task.digits;  // the answer
      if (cmd->count("--top-k") == 0) a->sampling.top_k = 1;                         // greedy, as evaluated
      if (task.reverse)
        fmt::print(stderr, "{}: the product is written units first (least-significant digit first)\n", c.dataset);
    }
    const std::string decoded =
        run.exported && !run.export_format.empty() ? fmt::format(", weights decoded from {}", run.export_format) : "";
    if (a->integer_only)
      fmt::print(stderr, "sampling {} (step {}) integer-only{}, scales {}{}\n", run.checkpoint, run.step,
                 c.int_weight_bits != 8 ? fmt::format(" W{}A8", c.int_weight_bits) : "", calibration, decoded);
    else
      fmt::print(stderr, "sampling {} (step {}) under arith: linear={} attention={} head={} embedding={}{}\n",
                 run.checkpoint, run.step, c.arith.linear, c.arith.attention, c.arith.head, c.arith.embedding, decoded);
    NoGrad ng;
    Rng rng(static_cast<uint64_t>(a->seed));
    const std::vector<int32_t> start = tokenizer->encode(a->prompt);
    if (start.empty()) throw Error("--prompt must not be empty");
    nn::LanguageModel& model = *run.model;
    for (int64_t s = 0; s < a->num_samples; ++s) {
      std::vector<int32_t> ids = start;
      fmt::print("{}", a->prompt);
      // A recurrent model carries its state (each token costs the same); the GPT re-runs its window.
      std::unique_ptr<nn::TokenStream> stream = model.stream();
      for (int64_t k = 0; k < a->max_new_tokens; ++k) {
        Tensor logits;  // (1,1,V)
        if (stream) {
          logits = stream->feed(k == 0 ? std::span<const int32_t>(ids) : std::span<const int32_t>(&ids.back(), 1));
        } else {
          const int64_t T = std::min<int64_t>(static_cast<int64_t>(ids.size()), model.block_size());
          std::span<const int32_t> ctx(ids.data() + ids.size() - static_cast<size_t>(T), static_cast<size_t>(T));
          logits = model.forward(ctx, 1, T, {}, rng, true).logits;
        }
        const int32_t next =
            nn::sample_next({logits.data(), static_cast<size_t>(model.vocab_size())}, a->sampling, rng);
        ids.push_back(next);
        const int id = next;
        fmt::print("{}", next < tokenizer->vocab_size() ? tokenizer->decode({&id, 1}) : std::string());
        std::fflush(stdout);
      }
      fmt::print("\n{}\n", a->num_samples > 1 ? "---------------" : "");
    }
  });
}

}  // namespace lmul::apps
