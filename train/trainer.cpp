#include "train/trainer.h"

#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "core/autograd.h"
#include "core/error.h"
#include "optim/adamw.h"
#include "train/answer_accuracy.h"
#include "train/batch_source.h"
#include "train/checkpoint.h"
#include "train/distributed.h"
#include "train/evaluate.h"
#include "train/init_from.h"
#include "train/model.h"
#include "train/progress.h"
#include "train/qat.h"
#include "train/resume.h"
#include "train/signals.h"

namespace lmul::train {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

// Everything one run holds between steps.
struct Run {
  explicit Run(TrainConfig& config_) : c(config_) {}
  TrainConfig& c;
  std::unique_ptr<BatchSource> data;
  std::unique_ptr<nn::LanguageModel> model;
  std::unique_ptr<optim::AdamW> opt;  // with several processes: the AdamW state of this rank's shard
  DataParallel* dp = nullptr;         // nullptr: one process
  std::unique_ptr<Parameters> shard;  // this rank's tensors (dp only), which opt steps
  std::vector<size_t> owned;          // their indices in the model's parameters
  int64_t dropout_draws = -1;         // dropout draws per micro-batch (dp: measured on the first step)
  bool root() const { return dp == nullptr || dp->root(); }
  optim::LrSchedule schedule;
  Rng dropout_rng{0};
  TrainState state;
  fs::path dir;
  std::string latest;             // ckpt/latest.safetensors
  nlohmann::ordered_json config;  // the resolved config, as checkpoints and metrics store it
  std::ofstream metrics;
  // For a divergence message: the last finite training loss (NaN before the first step of this
  // process) and its step, and the step ckpt/latest holds (-1: none written yet).
  double last_finite_loss = std::nan("");
  int64_t last_finite_step = -1;
  int64_t latest_step = -1;
};

// A non-finite value as a user reads it: "nan" (never "-nan"), "inf", "-inf".
std::string non_finite(double v) { return std::isnan(v) ? "nan" : fmt::format("{}", v); }

// Stops a run whose loss or weights stopped being finite, saying where and what is kept.
[[noreturn]] void diverged(const Run& r, int64_t step, const std::string& what) {
  const std::string last = std::isnan(r.last_finite_loss) ? std::string("no finite training loss in this process")
                                                          : fmt::format("last finite loss {:.4f} at step {}",
                                                                        r.last_finite_loss, r.last_finite_step);
  const std::string kept = r.latest_step < 0 ? std::string("no checkpoint written")
                                             : fmt::format("{} kept at step {}", r.latest, r.latest_step);
  throw TrainingDiverged(fmt::format("training diverged at step {}: {}; {}; {} (lower learning_rate, or check "
                                     "the arithmetic)",
                                     step, what, last, kept),
                         step);
}

// The weights and AdamW moments are all finite (checked before they are saved: a checkpoint never
// holds NaN or Inf weights that a resume would take up).
bool all_finite(const Run& r, optim::AdamW& opt) {
  auto finite = [](const Tensor& t) {
    for (float v : t.values())
      if (!std::isfinite(v)) return false;
    return true;
  };
  for (const auto& p : r.model->parameters())
    if (!finite(p.value)) return false;
  for (const auto* moments : {&opt.exp_avg(), &opt.exp_avg_sq()})
    for (const Tensor& t : *moments)
      if (!finite(t)) return false;
  return true;
}

// One line of metrics.jsonl, flushed; a failed write (disk full) stops the run naming the file.
void append_metrics(Run& r, const nlohmann::ordered_json& line) {
  if (!r.root()) return;  // rank 0 alone writes the run's files
  r.metrics << line.dump() << "\n";
  r.metrics.flush();
  if (!r.metrics)
    throw RuntimeFailure(
        fmt::format("{}: write failed ({})", (r.dir / "metrics.jsonl").string(), std::strerror(errno)));
}

void set_threads(int64_t threads) {
  const int n = threads > 0 ? static_cast<int>(threads) : omp_get_num_procs();
  omp_set_num_threads(n);
  openblas_set_num_threads(n);
}

// The data source, with the vocabulary and block size checked against it; resolves vocab_size.
std::unique_ptr<BatchSource> open_data(TrainConfig& c) {
  std::unique_ptr<BatchSource> data = make_batch_source(c);
  const int64_t vocab = c.vocab_size > 0 ? c.vocab_size : data->vocab_size();
  if (vocab < data->vocab_size())
    throw Error("{}: vocab_size={} is smaller than the dataset's {} (set 0 to use the dataset's)", c.source, vocab,
                data->vocab_size());
  data->check_block_size(c.block_size, c.source);
  c.vocab_size = vocab;
  return data;
}

optim::AdamWConfig adamw_config(const TrainConfig& c) {
  return {static_cast<float>(c.beta1), static_cast<float>(c.beta2), static_cast<float>(c.eps),
          static_cast<float>(c.weight_decay)};
}

// AdamW over every tensor, with the shards' moments gathered into it (dp only; collective). Rank 0
// gets it, the other ranks nullptr.
std::unique_ptr<optim::AdamW> gathered_optimizer(Run& r) {
  std::unique_ptr<optim::AdamW> full;
  if (r.root()) {
    full = std::make_unique<optim::AdamW>(r.model->parameters(), adamw_config(r.c));
    full->set_steps(r.opt->steps());
  }
  std::vector<Tensor> none;
  r.dp->gather_to_root(r.opt->exp_avg(), full ? full->exp_avg() : none);
  r.dp->gather_to_root(r.opt->exp_avg_sq(), full ? full->exp_avg_sq() : none);
  return full;
}

// Arithmetic that keeps state across forward passes (scaling histories, stochastic rounding's
// counters) would evolve differently on each rank: refused under data parallelism.
void refuse_stateful_arith(Run& r) {
  for (GemmSite* site : r.model->gemm_sites())
    for (const auto* mul : {site->forward.get(), site->backward.get()})
      if (mul && !mul->state().empty())
        throw Error(
            "{}: the arithmetic '{}' at {} keeps state across steps, which each mpirun rank would evolve on "
            "its own micro-batches: train it in one process (without mpirun)",
            r.c.source, mul->spec(), site->name);
}

// Prepares out_dir. A scratch run never overwrites an existing run unless asked.
void prepare_run_dir(const TrainConfig& c, const TrainOptions& o) {
  std::error_code ec;
  fs::create_directories(fs::path(c.out_dir) / "ckpt", ec);
  if (ec) throw Error("out_dir '{}': cannot create ({})", c.out_dir, ec.message());
  if (c.init_from != "resume" && !o.overwrite &&
      (fs::exists(fs::path(c.out_dir) / "metrics.jsonl") ||
       fs::exists(fs::path(c.out_dir) / "ckpt/latest.safetensors")))
    throw Error(
        "out_dir '{}' already holds a run: continue it with `lmul train {} --resume`, or pass --overwrite "
        "to replace it, or choose another --set out_dir=...",
        c.out_dir, c.out_dir);
}

// Continues from ckpt/latest: weights, moments, arithmetic state (same arithmetic only), loader
// and dropout generators; metrics.jsonl cut back to the checkpoint's step. Returns the config keys
// that changed, as {key: [old, new]}.
nlohmann::ordered_json restore(Run& r, const std::vector<std::string>& allowed) {
  if (!fs::exists(r.latest)) {
    // Never a silent fall-back to best (older weights, another step): say that it is there.
    const std::string best = (r.dir / "ckpt/best.safetensors").string();
    if (fs::exists(best))
      throw Error(
          "{}: missing, no checkpoint to resume from ({} is there: copy it to latest.safetensors to resume from "
          "its step, or start again with --overwrite)",
          r.latest, best);
    throw Error("{}: missing, no checkpoint to resume from (train from scratch first)", r.latest);
  }
  const LoadedCheckpoint saved = read_checkpoint_meta(r.latest);
  nlohmann::ordered_json changes = resume_changes(saved.config, r.config, r.latest, allowed);
  // The arithmetic state (e.g. scaling histories) belongs to the arithmetic it was saved with.
  const bool same_arith = saved.config.value("arith", nlohmann::json()) == nlohmann::json(r.config["arith"]);
  if (r.dp) {  // every rank reads the whole optimizer state and keeps its shard's
    optim::AdamW full(r.model->parameters(), adamw_config(r.c));
    r.state = load_checkpoint(r.latest, *r.model, {&full, same_arith}).state;
    r.opt->set_steps(full.steps());
    for (size_t k = 0; k < r.owned.size(); ++k)
      for (auto [to, from] :
           {std::pair{&r.opt->exp_avg(), &full.exp_avg()}, {&r.opt->exp_avg_sq(), &full.exp_avg_sq()}})
        std::copy_n((*from)[r.owned[k]].data(), (*to)[k].numel(), (*to)[k].data());
  } else {
    r.state = load_checkpoint(r.latest, *r.model, {r.opt.get(), same_arith}).state;
  }
  r.latest_step = r.state.iter;
  r.data->set_state({r.state.data_rng_seed, r.state.data_rng_counter});
  r.dropout_rng.set_state(r.state.dropout_rng_seed, r.state.dropout_rng_counter);
  if (!r.root()) return changes;
  for (const auto& [k, v] : changes.items())
    fmt::print(stderr, "lmul train: resume: {} changed from {} to {}\n", k, v[0].dump(), v[1].dump());
  truncate_metrics((r.dir / "metrics.jsonl").string(), r.state.iter);
  return changes;
}

// config.toml (the resolved config) and the metrics header; a resumed run appends a second
// header saying where it resumed and which keys changed.
void open_logs(Run& r, bool resuming, const nlohmann::ordered_json& changes) {
  if (!r.root()) return;
  {
    std::ofstream f(r.dir / "config.toml");
    f << to_toml(r.c);
    f.flush();
    if (!f)
      throw RuntimeFailure(
          fmt::format("{}: cannot write ({})", (r.dir / "config.toml").string(), std::strerror(errno)));
  }
  r.metrics.open(r.dir / "metrics.jsonl", resuming ? std::ios::app : std::ios::trunc);
  if (!r.metrics)
    throw RuntimeFailure(
        fmt::format("{}: cannot write ({})", (r.dir / "metrics.jsonl").string(), std::strerror(errno)));
  nlohmann::ordered_json header{{"config", r.config}};
  if (resuming) {
    header["resumed_at"] = r.state.iter;
    header["resume_changes"] = changes;
  }
  append_metrics(r, header);
}

// Data, model and optimizer of a run, fresh or resumed; the run directory and its logs opened.
Run start_run(TrainConfig& c, const TrainOptions& o) {
  set_threads(c.threads);
  Run r(c);
  r.dp = o.parallel;
  if (r.dp && c.gradient_accumulation_steps % r.dp->size() != 0)
    throw Error(
        "{}: gradient_accumulation_steps={} is not divisible by the {} processes of mpirun -np {} (each rank runs an "
        "equal share of the micro-batches): set gradient_accumulation_steps to a multiple of {}",
        c.source, c.gradient_accumulation_steps, r.dp->size(), r.dp->size(), r.dp->size());
  r.data = open_data(c);
  if (init_from_run(c)) check_init_from(c);
  if (c.qat) check_qat_config(c);
  if (r.dp) r.dp->check_same(run_identity_hash(to_json(c).dump(), c.dataset), "resolved config or dataset");
  if (r.root()) prepare_run_dir(c, o);
  r.model = make_model(c);
  if (r.dp) {
    refuse_stateful_arith(r);
    r.owned = r.dp->shard(r.model->parameters());
    r.shard = std::make_unique<Parameters>();
    for (size_t i : r.owned) r.shard->push_back(r.model->parameters()[i]);  // the same tensors, shared
  }
  r.opt = std::make_unique<optim::AdamW>(r.dp ? *r.shard : r.model->parameters(), adamw_config(c));
  r.schedule = {static_cast<float>(c.learning_rate), static_cast<float>(c.min_lr), c.warmup_iters, c.lr_decay_iters,
                c.decay_lr};
  r.dropout_rng.set_state(static_cast<uint64_t>(c.seed) ^ 0xd409ull, 0);
  r.dir = c.out_dir;
  r.latest = (r.dir / "ckpt/latest.safetensors").string();
  r.config = to_json(c);
  const bool resuming = c.init_from == "resume";
  nlohmann::ordered_json changes = nlohmann::ordered_json::object();
  if (resuming) {
    changes = restore(r, o.allow_changes);
  } else if (init_from_run(c)) {
    load_init_weights(c, *r.model);
  } else {
    Rng init_rng(static_cast<uint64_t>(c.seed));
    r.model->init(init_rng);
  }
  // The optimizer holds the GPT's parameters, which the fake-quant model keeps (it owns the GPT).
  if (c.qat) r.model = make_qat_model(std::move(r.model), c, resuming);
  open_logs(r, resuming, changes);
  return r;
}

// Every rank calls it (the shards' moments are gathered); rank 0 writes.
void save(Run& r, const std::string& path) {
  std::unique_ptr<optim::AdamW> gathered = r.dp ? gathered_optimizer(r) : nullptr;
  optim::AdamW* opt = r.dp ? gathered.get() : r.opt.get();
  if (!r.root()) {
    if (path == r.latest) r.latest_step = r.state.iter;
    return;
  }
  if (!all_finite(r, *opt)) diverged(r, r.state.iter, "the weights are no longer finite");
  const BatchSource::State loader = r.data->state();
  r.state.data_rng_seed = loader.seed;
  r.state.data_rng_counter = loader.counter;
  r.state.dropout_rng_seed = r.dropout_rng.seed();
  r.state.dropout_rng_counter = r.dropout_rng.counter();
  save_checkpoint(path, *r.model, opt, r.state, r.config);
  if (r.c.qat) save_qat_calibration(path, *r.model, r.c, r.state.iter);
  if (path == r.latest) r.latest_step = r.state.iter;
}

struct EvalLosses {
  double train = 0, val = 0;
  double val_accuracy = -1;  // whole-answer accuracy on the val batches (a task's runs only)
};

// nanoGPT's estimate_loss on both splits (the same batches at every evaluation).
EvalLosses evaluate(Run& r) {
  const EvalOptions o{r.c.eval_iters, r.c.batch_size, r.c.block_size, r.c.seed};
  EvalLosses out;
  out.train = estimate_split_loss(*r.model, *r.data, data::Split::train, o);
  out.val = estimate_split_loss(*r.model, *r.data, data::Split::val, o);
  if (r.data->has_answers()) out.val_accuracy = answer_accuracy(*r.model, *r.data, data::Split::val, o).whole();
  r.model->set_training(true);
  return out;
}

// The gradients summed micro-batch by micro-batch: each micro-batch's backward starts from zeroed
// gradients and is then added to the sum of the earlier ones, ((g₀ + g₁) + g₂) + …. A backward
// into the running sum would fuse the addition into its GEMMs (other bits); summing whole
// micro-batch gradients is what N processes do (each its own micro-batches, then the owner rank by
// rank), so that with one micro-batch per rank the two give the same bits.
class MicroBatchSum {
 public:
  explicit MicroBatchSum(Parameters& params) : params_(params) {}
  // Before the backward of a micro-batch that is not this process's first: the sum so far set aside.
  void set_aside() {
    int64_t total = 0;
    for (const auto& p : params_) total += p.value.numel();
    sum_.resize(static_cast<size_t>(total));
    had_.assign(params_.size(), false);
    int64_t at = 0;
    for (size_t i = 0; i < params_.size(); ++i) {
      const Tensor& t = params_[i].value;
      if (t.has_grad()) {
        had_[i] = true;
        std::copy_n(t.grad(), t.numel(), sum_.data() + at);
        t.zero_grad();
      }
      at += t.numel();
    }
  }
  // After it: its gradient added to the sum set aside.
  void add_back() {
    int64_t at = 0;
    for (size_t i = 0; i < params_.size(); ++i) {
      const Tensor& t = params_[i].value;
      if (had_[i]) {
        float* g = t.grad();
        const float* s = sum_.data() + at;
        const int64_t n = t.numel();
#pragma omp parallel for simd schedule(static)
        for (int64_t j = 0; j < n; ++j) g[j] = s[j] + g[j];
      }
      at += t.numel();
    }
  }

 private:
  Parameters& params_;
  std::vector<float> sum_;
  std::vector<bool> had_;
};

// Data parallel: micro-batch k draws the dropout stream from the same place on every rank, the
// step's first draw + k·(draws per micro-batch), as one process does running them in order. The
// draws per micro-batch are rank 0's count on its first micro-batch (fixed by the shapes).
void align_dropout(Run& r, int64_t micro, uint64_t first_draw, bool before) {
  if (before) {
    if (r.dropout_draws < 0 && !r.root()) r.dropout_draws = static_cast<int64_t>(r.dp->broadcast(0));
    if (r.dropout_draws >= 0)
      r.dropout_rng.set_state(r.dropout_rng.seed(), first_draw + static_cast<uint64_t>(micro * r.dropout_draws));
    return;
  }
  if (r.dropout_draws < 0)
    r.dropout_draws = static_cast<int64_t>(r.dp->broadcast(r.dropout_rng.counter() - first_draw));
  if (r.dropout_rng.counter() != first_draw + static_cast<uint64_t>((micro + 1) * r.dropout_draws))
    throw RuntimeFailure(fmt::format(
        "data parallel: micro-batch {} took {} dropout draws, micro-batch 0 {}", micro,
        r.dropout_rng.counter() - first_draw - static_cast<uint64_t>(micro * r.dropout_draws), r.dropout_draws));
}

struct StepStats {
  double loss = 0;  // mean over the micro-batches
  float grad_norm = 0;
};

// One optimizer step: forward and backward of every micro-batch of this process (the loss seeded
// 1/steps, gradients summed in micro-batch order), then, in one process, clipping and AdamW; with
// several, the gradients reduced to their shard's owner, the owner's AdamW and the all-gather.
StepStats train_step(Run& r, float lr) {
  const int64_t steps = r.c.gradient_accumulation_steps;
  const int64_t mine = r.dp ? steps / r.dp->size() : steps, first = r.dp ? r.dp->rank() * mine : 0;
  Parameters& params = r.model->parameters();
  r.model->set_training(true);
  Batch batch;
  MicroBatchSum sum(params);
  std::vector<double> losses;
  const uint64_t first_draw = r.dropout_rng.counter();
  for (int64_t micro = 0; micro < steps; ++micro) {
    // Every rank draws every micro-batch (a copy of B·T tokens): the loader's state stays the same everywhere.
    r.data->next_train(r.c.batch_size, r.c.block_size, batch);
    if (micro < first || micro >= first + mine) continue;
    if (r.dp) align_dropout(r, micro, first_draw, true);
    if (micro > first) sum.set_aside();
    Tensor loss = r.model->forward(batch.x, r.c.batch_size, r.c.block_size, batch.y, r.dropout_rng).loss;
    if (r.dp) align_dropout(r, micro, first_draw, false);
    losses.push_back(loss.item());
    backward(loss, 1.0f / static_cast<float>(steps));
    if (micro > first) sum.add_back();
  }
  StepStats s;
  if (r.dp) {
    r.dropout_rng.set_state(r.dropout_rng.seed(), first_draw + static_cast<uint64_t>(steps * r.dropout_draws));
    losses = r.dp->all_gather(losses);  // rank order is micro-batch order
  }
  for (double l : losses) s.loss += l;
  s.loss /= static_cast<double>(steps);
  if (r.dp) {
    s.grad_norm = r.dp->reduce_gradients(params);
    r.opt->step(lr, optim::clip_coefficient(s.grad_norm, static_cast<float>(r.c.grad_clip)));  // this rank's shard
    r.dp->all_gather_parameters(params);
    for (auto& p : params) p.value.zero_grad();
  } else {
    s.grad_norm = optim::grad_norm(params);
    r.opt->step(lr, optim::clip_coefficient(s.grad_norm, static_cast<float>(r.c.grad_clip)));  // clips in AdamW's pass
    r.opt->zero_grad();
  }
  return s;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::nth_element(v.begin(), v.begin() + static_cast<int64_t>(v.size() / 2), v.end());
  return v[v.size() / 2];
}

int64_t tokens_per_iter(const TrainConfig& c) { return c.gradient_accumulation_steps * c.batch_size * c.block_size; }

void announce(const Run& r) {
  if (!r.root()) return;
  const TrainConfig& c = r.c;
  fmt::print(stderr, "lmul train: {} params ({} non-embedding), {} tokens/iter, {} threads, OpenBLAS core {}\n",
             r.model->num_params(false), r.model->num_params(), tokens_per_iter(c), omp_get_max_threads(),
             openblas_get_corename());
  fmt::print(stderr, "arith: linear={} attention={} head={} embedding={} backward={}\n", c.arith.linear,
             c.arith.attention, c.arith.head, c.arith.embedding, c.arith.backward);
  for (const auto& [module, spec] : c.arith.modules) fmt::print(stderr, "arith: {}={}\n", module, spec);
  if (c.qat)
    fmt::print(stderr, "qat: forward = the integer-only graph (int8, scales frozen in {}), backward fp32; from {}\n",
               qat_scales_path(c), c.init_from == "resume" ? "this run" : c.init_from);
}

// An evaluation step: both splits' losses into the metrics line, ckpt/latest (and best on a new best
// val loss) written except at the step the run started from.
void evaluate_and_save(Run& r, int64_t it, int64_t first_iter, nlohmann::ordered_json& line, Progress& progress,
                       TrainResult& result) {
  const EvalLosses e = evaluate(r);
  if (!std::isfinite(e.val) || !std::isfinite(e.train))
    diverged(r, it, fmt::format("evaluation loss is {} (train) / {} (val)", non_finite(e.train), non_finite(e.val)));
  const std::string accuracy = e.val_accuracy >= 0 ? fmt::format(", val accuracy {:.4f}", e.val_accuracy) : "";
  if (r.root())
    progress.line(fmt::format("step {}: train loss {:.4f}, val loss {:.4f}{}", it, e.train, e.val, accuracy));
  line["val_loss"] = e.val;
  line["eval_train_loss"] = e.train;
  if (e.val_accuracy >= 0) line["val_accuracy"] = e.val_accuracy;
  result.final_val_loss = e.val;
  result.final_train_loss = e.train;
  const bool improved = e.val < r.state.best_val_loss;
  r.state.best_val_loss = std::min(r.state.best_val_loss, e.val);
  r.state.iter = it;
  if (it > first_iter && (improved || r.c.always_save_checkpoint)) {
    save(r, r.latest);
    if (improved) save(r, (r.dir / "ckpt/best.safetensors").string());  // atomic like latest, never a half copy
  }
}

// The metrics line of a trained step (every log_interval steps, and at evaluations).
void log_step(Run& r, int64_t it, nlohmann::ordered_json& line, const StepStats& s, float lr, double ms) {
  if (it % r.c.log_interval != 0 && !line.contains("val_loss")) return;
  line["train_loss"] = s.loss;
  line["lr"] = lr;
  line["ms_per_step"] = ms;
  line["tokens_per_s"] = static_cast<double>(tokens_per_iter(r.c)) / (ms / 1000.0);
  line["grad_norm"] = s.grad_norm;
  append_metrics(r, line);
}

// SIGINT/SIGTERM after a step: ckpt/latest written, and how to continue.
void stop_for_signal(Run& r, int64_t it, int sig) {
  save(r, r.latest);
  if (!r.root()) return;
  fmt::print(stderr,
             "lmul train: stopped by {} after step {}; checkpoint written to {}; continue with: "
             "lmul train {} --resume\n",
             sig == SIGINT    ? "SIGINT"
             : sig == SIGTERM ? "SIGTERM"
                              : "a signal",
             it, r.latest, r.c.out_dir);
}

void summarise(const Run& r, const std::vector<double>& step_ms, TrainResult& result) {
  result.iters = r.state.iter;
  result.best_val_loss = r.state.best_val_loss;
  result.median_ms_per_step = median(step_ms);
  if (result.median_ms_per_step > 0)
    result.tokens_per_s = static_cast<double>(tokens_per_iter(r.c)) / (result.median_ms_per_step / 1000.0);
}

}  // namespace

TrainResult train(TrainConfig& c, const TrainOptions& o) {
  Run r = start_run(c, o);
  announce(r);
  TrainResult result;
  Progress progress(c.max_iters, !o.quiet && r.root());
  std::vector<double> step_ms;
  const auto t_start = Clock::now();
  const int64_t first_iter = r.state.iter;
  for (int64_t it = r.state.iter; it <= c.max_iters; ++it) {
    const float lr = r.schedule.at(it);
    nlohmann::ordered_json line{{"step", it}};
    if (it % c.eval_interval == 0 || it == c.max_iters || c.eval_only)
      evaluate_and_save(r, it, first_iter, line, progress, result);
    if (c.eval_only || it == c.max_iters) {  // the final evaluation describes the final weights: no step after it
      if (!c.eval_only) line["lr"] = lr;
      append_metrics(r, line);
      break;
    }
    const auto t0 = Clock::now();
    const StepStats s = train_step(r, lr);
    if (r.dp) refuse_stateful_arith(r);
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    step_ms.push_back(ms);
    if (!std::isfinite(s.loss)) diverged(r, it, fmt::format("loss is {}", non_finite(s.loss)));
    r.last_finite_loss = s.loss;
    r.last_finite_step = it;
    log_step(r, it, line, s, lr, ms);
    r.state.iter = it + 1;
    // Under mpirun every rank stops after the same step (a signal reaches each at its own time).
    if (const int sig = r.dp ? r.dp->max(stop_signal()) : stop_signal(); sig != 0) {
      progress.finish();
      stop_for_signal(r, it, sig);
      summarise(r, step_ms, result);
      result.interrupted = true;
      return result;
    }
    if (c.checkpoint_interval > 0 && (it + 1) % c.checkpoint_interval == 0) save(r, r.latest);
    const double per_iter =
        std::chrono::duration<double>(Clock::now() - t_start).count() / static_cast<double>(it + 1 - first_iter);
    // The step and loss as metrics.jsonl logs them (nanoGPT's "iter N: loss X" line).
    progress.update(it + 1,
                    fmt::format("iter {}/{}: loss {:.4f} | lr {:.2e} | {:.0f} tok/s | {:.1f} ms/step", it, c.max_iters,
                                s.loss, lr, static_cast<double>(tokens_per_iter(c)) / (ms / 1000.0), ms),
                    per_iter, it % c.log_interval == 0);
  }
  progress.finish();
  r.state.iter = std::min(r.state.iter, c.max_iters);
  if (!c.eval_only) save(r, r.latest);
  r.metrics.flush();
  if (!r.metrics) throw RuntimeFailure(fmt::format("{}: write failed", (r.dir / "metrics.jsonl").string()));
  summarise(r, step_ms, result);
  if (r.root())
    fmt::print(
        stderr,
        "done: {} iterations, val loss {:.4f} (best {:.4f}), median {:.1f} ms/step, {:.0f} tokens/s; run dir {}\n",
        result.iters, result.final_val_loss, result.best_val_loss, result.median_ms_per_step, result.tokens_per_s,
        c.out_dir);
  return result;
}

}  // namespace lmul::train
