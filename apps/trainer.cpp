#include "apps/trainer.h"

#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "apps/checkpoint.h"
#include "apps/evaluate.h"
#include "apps/progress.h"
#include "apps/resume.h"
#include "apps/signals.h"
#include "core/autograd.h"
#include "core/error.h"
#include "data/token_dataset.h"
#include "nn/gpt.h"
#include "optim/adamw.h"

namespace lmul::apps {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

void set_threads(int64_t threads) {
  const int n = threads > 0 ? static_cast<int>(threads) : omp_get_num_procs();
  omp_set_num_threads(n);
  openblas_set_num_threads(n);
}

struct EvalLosses {
  double train = 0, val = 0;
};

// nanoGPT's estimate_loss on both splits (apps/evaluate.h: the same batches at every evaluation).
EvalLosses estimate_loss(nn::GPT& model, const data::TokenDataset& data, const TrainConfig& c) {
  EvalLosses out;
  out.train = estimate_split_loss(model, data, data::Split::train, c.eval_iters, c.batch_size, c.block_size, c.seed);
  out.val = estimate_split_loss(model, data, data::Split::val, c.eval_iters, c.batch_size, c.block_size, c.seed);
  model.set_training(true);
  return out;
}

// Prepares out_dir. A scratch run never overwrites an existing run unless asked.
void prepare_run_dir(const TrainConfig& c, const TrainOptions& o) {
  std::error_code ec;
  fs::create_directories(fs::path(c.out_dir) / "ckpt", ec);
  if (ec) throw Error("out_dir '{}': cannot create ({})", c.out_dir, ec.message());
  if (c.init_from == "scratch" && !o.overwrite &&
      (fs::exists(fs::path(c.out_dir) / "metrics.jsonl") || fs::exists(fs::path(c.out_dir) / "ckpt/latest.safetensors")))
    throw Error("out_dir '{}' already holds a run: resume it with --resume, or pass --overwrite, "
                "or choose another --set out_dir=...", c.out_dir);
}


}  // namespace

TrainResult train(TrainConfig& c, const TrainOptions& o) {
  set_threads(c.threads);
  data::TokenDataset data(c.dataset);
  const int64_t vocab = c.vocab_size > 0 ? c.vocab_size : data.vocab_size();
  if (vocab < data.vocab_size())
    throw Error("{}: vocab_size={} is smaller than the dataset's {} (set 0 to use the dataset's)",
                c.source, vocab, data.vocab_size());
  for (auto s : {data::Split::train, data::Split::val})
    if (data.tokens(s) <= c.block_size)
      throw Error("{}: block_size={} is too large: {} has only {} {} tokens (lower block_size)", c.source,
                  c.block_size, c.dataset, data.tokens(s), s == data::Split::train ? "train" : "val");
  c.vocab_size = vocab;
  prepare_run_dir(c, o);

  nn::GPT model(model_config(c, vocab), c.arith, static_cast<uint64_t>(c.seed));
  optim::AdamW opt(model.parameters(), {static_cast<float>(c.beta1), static_cast<float>(c.beta2),
                                        static_cast<float>(c.eps), static_cast<float>(c.weight_decay)});
  optim::LrSchedule sched{static_cast<float>(c.learning_rate), static_cast<float>(c.min_lr),
                          c.warmup_iters, c.lr_decay_iters, c.decay_lr};
  Rng data_rng(static_cast<uint64_t>(c.seed) ^ 0xda7aull), dropout_rng(static_cast<uint64_t>(c.seed) ^ 0xd409ull);
  TrainState state;
  const fs::path run(c.out_dir);
  const std::string latest = (run / "ckpt/latest.safetensors").string();
  const bool resuming = c.init_from == "resume";
  nlohmann::ordered_json cfg = to_json(c);
  nlohmann::ordered_json changes = nlohmann::ordered_json::object();
  if (resuming) {
    if (!fs::exists(latest))
      throw Error("{}: no checkpoint to resume from (train from scratch first)", latest);
    const LoadedCheckpoint saved = read_checkpoint_meta(latest);
    changes = resume_changes(saved.config, cfg, latest);
    // The arithmetic state (e.g. scaling histories) belongs to the arithmetic it was saved with.
    const bool same_arith = saved.config.value("arith", nlohmann::json()) == nlohmann::json(cfg["arith"]);
    state = load_checkpoint(latest, model, {&opt, same_arith}).state;
    data_rng.set_state(state.data_rng_seed, state.data_rng_counter);
    dropout_rng.set_state(state.dropout_rng_seed, state.dropout_rng_counter);
    for (const auto& [k, v] : changes.items())
      fmt::print(stderr, "lmul train: resume: {} changed from {} to {}\n", k, v[0].dump(), v[1].dump());
    truncate_metrics((run / "metrics.jsonl").string(), state.iter);
  } else {
    Rng init_rng(static_cast<uint64_t>(c.seed));
    model.init(init_rng);
  }

  {
    std::ofstream f(run / "config.toml");
    f << to_toml(c);
    if (!f) throw RuntimeFailure(fmt::format("{}: cannot write", (run / "config.toml").string()));
  }
  std::ofstream metrics(run / "metrics.jsonl", resuming ? std::ios::app : std::ios::trunc);
  if (!metrics) throw RuntimeFailure(fmt::format("{}: cannot write", (run / "metrics.jsonl").string()));
  // A resumed run appends a second header: where it resumed and which keys changed.
  nlohmann::ordered_json header{{"config", cfg}};
  if (resuming) {
    header["resumed_at"] = state.iter;
    header["resume_changes"] = changes;
  }
  metrics << header.dump() << "\n";
  metrics.flush();

  const int64_t tokens_per_iter = c.gradient_accumulation_steps * c.batch_size * c.block_size;
  fmt::print(stderr, "lmul train: {} params ({} non-embedding), {} tokens/iter, {} threads\n",
             model.num_params(false), model.num_params(), tokens_per_iter, omp_get_max_threads());
  fmt::print(stderr, "arith: linear={} attention={} head={} embedding={} backward={}\n", c.arith.linear,
             c.arith.attention, c.arith.head, c.arith.embedding, c.arith.backward);

  auto save = [&](const std::string& path) {
    state.data_rng_seed = data_rng.seed();
    state.data_rng_counter = data_rng.counter();
    state.dropout_rng_seed = dropout_rng.seed();
    state.dropout_rng_counter = dropout_rng.counter();
    save_checkpoint(path, model, &opt, state, cfg);
  };

  TrainResult result;
  Progress progress(c.max_iters, !o.quiet);
  std::vector<int32_t> x, y;
  std::vector<double> step_ms;
  double loss_ema = NAN;
  auto t_start = Clock::now();
  const int64_t first_iter = state.iter;
  for (int64_t it = state.iter; it <= c.max_iters; ++it) {
    const float lr = sched.at(it);
    nlohmann::ordered_json line;
    line["step"] = it;
    if (it % c.eval_interval == 0 || it == c.max_iters || c.eval_only) {
      EvalLosses e = estimate_loss(model, data, c);
      progress.line(fmt::format("step {}: train loss {:.4f}, val loss {:.4f}", it, e.train, e.val));
      line["val_loss"] = e.val;
      line["eval_train_loss"] = e.train;
      result.final_val_loss = e.val;
      result.final_train_loss = e.train;
      const bool improved = e.val < state.best_val_loss;
      state.best_val_loss = std::min(state.best_val_loss, e.val);
      state.iter = it;
      if (it > first_iter && (improved || c.always_save_checkpoint)) {
        save(latest);
        if (improved) save((run / "ckpt/best.safetensors").string());  // atomic like latest, never a half copy
      }
      if (c.eval_only) {
        metrics << line.dump() << "\n";
        break;
      }
    }
    if (it == c.max_iters) {  // the final evaluation describes the final weights: no step after it
      line["lr"] = lr;
      metrics << line.dump() << "\n";
      break;
    }

    const auto t0 = Clock::now();
    model.set_training(true);
    double loss_sum = 0;
    for (int64_t micro = 0; micro < c.gradient_accumulation_steps; ++micro) {
      data.batch(data::Split::train, c.batch_size, c.block_size, data_rng, x, y);
      Tensor loss = model.forward(x, c.batch_size, c.block_size, y, dropout_rng).loss;
      loss_sum += loss.item();
      backward(loss, 1.0f / static_cast<float>(c.gradient_accumulation_steps));
    }
    const float grad_norm = optim::grad_norm(model.parameters());
    opt.step(lr, optim::clip_coefficient(grad_norm, static_cast<float>(c.grad_clip)));  // clips in AdamW's pass
    opt.zero_grad();
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    step_ms.push_back(ms);
    const double train_loss = loss_sum / static_cast<double>(c.gradient_accumulation_steps);
    if (!std::isfinite(train_loss))
      throw RuntimeFailure(fmt::format("training diverged at step {}: loss is {} (lower learning_rate, or check the arithmetic)", it, train_loss));
    loss_ema = std::isnan(loss_ema) ? train_loss : 0.9 * loss_ema + 0.1 * train_loss;

    if (it % c.log_interval == 0 || line.contains("val_loss")) {
      line["train_loss"] = train_loss;
      line["lr"] = lr;
      line["ms_per_step"] = ms;
      line["tokens_per_s"] = static_cast<double>(tokens_per_iter) / (ms / 1000.0);
      line["grad_norm"] = grad_norm;
      metrics << line.dump() << "\n";
      metrics.flush();
    }
    state.iter = it + 1;
    if (const int sig = stop_signal(); sig != 0) {
      save(latest);
      progress.finish();
      fmt::print(stderr, "lmul train: stopped by {} after step {}; checkpoint written to {}; continue with: "
                 "lmul train {} --resume\n", sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "a signal",
                 it, latest, c.out_dir);
      result.iters = state.iter;
      result.best_val_loss = state.best_val_loss;
      result.interrupted = true;
      return result;
    }
    if (c.checkpoint_interval > 0 && (it + 1) % c.checkpoint_interval == 0) save(latest);
    const double elapsed = std::chrono::duration<double>(Clock::now() - t_start).count();
    const double per_iter = elapsed / static_cast<double>(it + 1 - first_iter);
    progress.update(it + 1, fmt::format("loss {:.4f} | lr {:.2e} | {:.0f} tok/s | {:.1f} ms/step", loss_ema, lr,
                                        static_cast<double>(tokens_per_iter) / (ms / 1000.0), ms),
                    per_iter);
  }
  progress.finish();
  state.iter = std::min(state.iter, c.max_iters);
  if (!c.eval_only) save(latest);
  metrics.flush();
  if (!metrics) throw RuntimeFailure(fmt::format("{}: write failed", (run / "metrics.jsonl").string()));

  result.iters = state.iter;
  result.best_val_loss = state.best_val_loss;
  if (!step_ms.empty()) {
    std::vector<double> s = step_ms;
    std::nth_element(s.begin(), s.begin() + static_cast<int64_t>(s.size() / 2), s.end());
    result.median_ms_per_step = s[s.size() / 2];
    result.tokens_per_s = static_cast<double>(tokens_per_iter) / (result.median_ms_per_step / 1000.0);
  }
  fmt::print(stderr, "done: {} iterations, val loss {:.4f} (best {:.4f}), median {:.1f} ms/step, {:.0f} tokens/s; run dir {}\n",
             result.iters, result.final_val_loss, result.best_val_loss, result.median_ms_per_step,
             result.tokens_per_s, c.out_dir);
  return result;
}

}  // namespace lmul::apps
