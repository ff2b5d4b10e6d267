// The training configuration: nanoGPT's key names (docs/ARCHITECTURE.md §5) plus lmul's [arith] table,
// read from TOML, overridden by `--set key=value`, validated with one-line errors naming the file,
// the key, the value and the allowed range.
#pragma once
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "nn/config.h"
#include "nn/matmulfree.h"

namespace lmul::train {

struct TrainConfig {
  // I/O
  std::string out_dir = "out";
  std::string dataset = "datasets/shakespeare_char";
  std::string init_from = "scratch";  // scratch | resume | RUN_DIR (fine-tune its weights: train/init_from.h)
  bool qat = false;                   // quantisation-aware fine-tuning of the integer-only GPT (train/qat.h)
  int64_t int_weight_bits = 8;        // the integer-only GPT's Linear weights: 8 (W8A8) or fewer (4: W4A8)
  int64_t eval_interval = 2000;
  int64_t log_interval = 1;
  int64_t eval_iters = 200;
  bool eval_only = false;
  bool always_save_checkpoint = true;
  int64_t checkpoint_interval = 0;  // 0: at eval steps (when improved or always_save) and at the end
  // data
  int64_t gradient_accumulation_steps = 1;
  int64_t batch_size = 12;
  int64_t block_size = 1024;
  // model
  std::string model = "gpt";  // gpt | matmulfree (nn/matmulfree.h)
  int64_t n_layer = 12, n_head = 12, n_embd = 768;
  int64_t vocab_size = 0;  // 0: the dataset's vocabulary (meta.json)
  double dropout = 0.0;
  bool bias = false;
  std::string gelu = "exact";       // exact | tanh
  std::string activation = "gelu";  // gelu | relu (MLP activation)
  // model = "matmulfree" only (the reference's names: matmulfreellm configuration_hgrn_bit.py)
  int64_t intermediate_size = 0;  // 0: the reference's rule 256·⌈⌊8·n_embd/3⌋/256⌉
  bool use_lower_bound = true;
  double rms_norm_eps = 1e-6;
  // AdamW and schedule
  double learning_rate = 6e-4;
  int64_t max_iters = 600000;
  double weight_decay = 0.1, beta1 = 0.9, beta2 = 0.95, eps = 1e-8, grad_clip = 1.0;
  bool decay_lr = true;
  int64_t warmup_iters = 2000, lr_decay_iters = 600000;
  double min_lr = 6e-5;
  // run
  int64_t seed = 1337;
  int64_t threads = 0;  // 0: all cores
  nn::ArithConfig arith;

  std::string source;  // the file it was read from (for messages)
};

// One row per key: name ("arith.linear" for table keys), where it lives, allowed range/choices.
struct ConfigKey {
  std::string name;
  std::variant<int64_t*, double*, bool*, std::string*> value;
  double lo = 0, hi = 0;  // numeric range (inclusive)
  std::string choices;    // "a|b|c" for strings with a fixed set; empty: free string
  std::string help;
};
std::vector<ConfigKey> config_keys(TrainConfig& c);

// Reads path (TOML), then applies overrides "key=value"; validates. Throws lmul::Error.
TrainConfig load_config(const std::string& path, const std::vector<std::string>& overrides);
// Applies one "key=value" override (source names where it came from, e.g. "--set").
void apply_override(TrainConfig& c, const std::string& assignment, const std::string& source);
// Range and consistency checks (n_embd % n_head, schedule order, arith specs parse, ...).
void validate(TrainConfig& c);

// The config a checkpoint was written with (its to_json object), then overrides; validated.
// source names the checkpoint in messages.
TrainConfig config_from_json(const nlohmann::json& j, const std::string& source,
                             const std::vector<std::string>& overrides = {});

std::string to_toml(TrainConfig& c);
nlohmann::ordered_json to_json(TrainConfig& c);
// A config JSON's "arith" object on one line: "linear=lmul:m=4<sep>attention=exact<sep>..." and
// each [arith.modules] row as "<sep>module=spec".
std::string arith_summary(const nlohmann::ordered_json& arith, const std::string& sep);

nn::GPTConfig model_config(const TrainConfig& c, int64_t vocab_size);
nn::MatMulFreeConfig matmulfree_config(const TrainConfig& c, int64_t vocab_size);

}  // namespace lmul::train
