// lmul sample RUN_DIR: autoregressive generation with temperature and top-k (nanoGPT's sample.py).
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <memory>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "apps/checkpoint.h"
#include "apps/commands.h"
#include "apps/train_config.h"
#include "core/autograd.h"
#include "core/error.h"
#include "data/tokenizer.h"
#include "nn/gpt.h"

namespace lmul::apps {

namespace {
// Samples one id from logits / temperature restricted to the top k (k ≤ 0: all).
int32_t sample_next(const float* logits, int64_t V, float temperature, int64_t top_k, Rng& rng) {
  std::vector<float> l(logits, logits + V);
  for (float& v : l) v /= temperature;
  if (top_k > 0 && top_k < V) {
    std::vector<float> s = l;
    std::nth_element(s.begin(), s.begin() + (top_k - 1), s.end(), std::greater<float>());
    const float kth = s[static_cast<size_t>(top_k - 1)];
    for (float& v : l)
      if (v < kth) v = -INFINITY;
  }
  const float mx = *std::max_element(l.begin(), l.end());
  double sum = 0;
  std::vector<double> p(l.size());
  for (size_t i = 0; i < l.size(); ++i) sum += p[i] = std::exp(static_cast<double>(l[i] - mx));
  double u = static_cast<double>(rng.uniform()) * sum;
  for (size_t i = 0; i < p.size(); ++i) {
    if ((u -= p[i]) < 0) return static_cast<int32_t>(i);
  }
  return static_cast<int32_t>(p.size() - 1);
}
}  // namespace

void add_sample(CLI::App& app) {
  struct Args {
    std::string run_dir, prompt = "\n", checkpoint = "latest";
    int64_t max_new_tokens = 500, top_k = 200, seed = 1337, num_samples = 1;
    float temperature = 0.8f;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("sample", "Generate text from a trained run");
  cmd->add_option("run_dir", a->run_dir, "Run directory (config.toml, ckpt/)")->required();
  cmd->add_option("--prompt", a->prompt, "Text to continue")->capture_default_str();
  cmd->add_option("--max-new-tokens", a->max_new_tokens, "Tokens to generate")->capture_default_str()->check(CLI::Range(0, 1000000));
  cmd->add_option("--temperature", a->temperature, "Softmax temperature (> 0)")->capture_default_str()->check(CLI::Range(1e-4, 100.0));
  cmd->add_option("--top-k", a->top_k, "Sample among the k most likely tokens (0: all)")->capture_default_str()->check(CLI::NonNegativeNumber);
  cmd->add_option("--seed", a->seed, "Sampling seed")->capture_default_str();
  cmd->add_option("--num-samples", a->num_samples, "Independent samples")->capture_default_str()->check(CLI::Range(1, 1000));
  cmd->add_option("--checkpoint", a->checkpoint, "latest | best")->capture_default_str()->check(CLI::IsMember({"latest", "best"}));
  cmd->callback([a] {
    namespace fs = std::filesystem;
    const fs::path run(a->run_dir);
    if (!fs::is_directory(run)) throw Error("{}: not a run directory", a->run_dir);
    const std::string ckpt = (run / "ckpt" / (a->checkpoint + ".safetensors")).string();
    if (!fs::exists(ckpt)) throw Error("{}: missing (train the run first)", ckpt);
    if (!fs::exists(run / "config.toml")) throw Error("{}: missing: not an lmul run directory", (run / "config.toml").string());
    read_checkpoint_meta(ckpt);  // a corrupt checkpoint is reported before anything else
    TrainConfig c = load_config((run / "config.toml").string(), {});
    auto tokenizer = data::load_tokenizer(c.dataset);
    nn::GPT model(model_config(c, c.vocab_size > 0 ? c.vocab_size : tokenizer->vocab_size()), c.arith,
                  static_cast<uint64_t>(c.seed));
    load_checkpoint(ckpt, model);
    model.set_training(false);
    NoGrad ng;
    Rng rng(static_cast<uint64_t>(a->seed));
    const std::vector<int32_t> start = tokenizer->encode(a->prompt);
    if (start.empty()) throw Error("--prompt must not be empty");
    const int64_t V = model.config().vocab_size;
    for (int64_t s = 0; s < a->num_samples; ++s) {
      std::vector<int32_t> ids = start;
      fmt::print("{}", a->prompt);
      for (int64_t k = 0; k < a->max_new_tokens; ++k) {
        const int64_t T = std::min<int64_t>(static_cast<int64_t>(ids.size()), c.block_size);
        std::span<const int32_t> ctx(ids.data() + ids.size() - static_cast<size_t>(T), static_cast<size_t>(T));
        Tensor logits = model.forward(ctx, 1, T, {}, rng, true).logits;  // (1,1,V)
        const int32_t next = sample_next(logits.data(), V, a->temperature, a->top_k, rng);
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
