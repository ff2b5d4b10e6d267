#include "train/config.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <sstream>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "core/arith/arith.h"
#include "core/error.h"
#include "core/suggest.h"
#include "data/utf8.h"
#include "train/arith_modules.h"
#include "train/model.h"

namespace lmul::train {

std::vector<ConfigKey> config_keys(TrainConfig& c) {
  constexpr double kBig = 1e12;
  return {
      {"out_dir", &c.out_dir, 0, 0, "", "run directory (config, metrics.jsonl, ckpt/)"},
      {"dataset", &c.dataset, 0, 0, "",
       "prepared data directory (train.bin, val.bin, meta.json), or a generated task "
       "multiply:digits=N[,reverse=true|false][,simple=F]"},
      {"init_from", &c.init_from, 0, 0, "",
       "scratch, resume (out_dir's latest checkpoint), or a trained run directory to fine-tune from (its weights; "
       "step 0, a new optimizer)"},
      {"qat", &c.qat, 0, 0, "",
       "quantisation-aware fine-tuning: the forward is the integer-only graph, gradients straight through (needs "
       "init_from = RUN_DIR)"},
      {"int_weight_bits", &c.int_weight_bits, 2, 8, "",
       "bits of the integer-only GPT's Linear weights (--integer-only, qat): 8 = W8A8, 4 = W4A8"},
      {"eval_interval", &c.eval_interval, 1, kBig, "", "iterations between evaluations"},
      {"log_interval", &c.log_interval, 1, kBig, "", "iterations between metrics lines"},
      {"eval_iters", &c.eval_iters, 1, kBig, "", "batches averaged per split at each evaluation"},
      {"eval_only", &c.eval_only, 0, 0, "", "evaluate once and exit"},
      {"always_save_checkpoint", &c.always_save_checkpoint, 0, 0, "",
       "checkpoint at every evaluation, not only on a new best val loss"},
      {"checkpoint_interval", &c.checkpoint_interval, 0, kBig, "",
       "also write ckpt/latest every N iterations (0: off)"},
      {"gradient_accumulation_steps", &c.gradient_accumulation_steps, 1, 1e6, "", "micro-batches per optimizer step"},
      {"batch_size", &c.batch_size, 1, 1e6, "", "sequences per micro-batch"},
      {"block_size", &c.block_size, 1, 1e6, "", "context length T"},
      {"model", &c.model, 0, 0, "gpt|matmulfree",
       "architecture: nanoGPT's GPT, or the MatMul-free LM (ternary BitLinear + MLGRU, arXiv 2406.02528)"},
      {"n_layer", &c.n_layer, 1, 1000, "", "blocks"},
      {"n_head", &c.n_head, 1, 1000, "", "attention heads (must divide n_embd)"},
      {"n_embd", &c.n_embd, 1, 1e6, "", "embedding width C"},
      {"vocab_size", &c.vocab_size, 0, 1e7, "", "vocabulary (0: the dataset's; larger pads like nanoGPT's 50304)"},
      {"dropout", &c.dropout, 0, 0.999, "", "dropout probability"},
      {"bias", &c.bias, 0, 0, "", "biases in Linear and LayerNorm layers"},
      {"gelu", &c.gelu, 0, 0, "exact|tanh", "GELU form: exact erf (nn.GELU) or tanh approximation"},
      {"activation", &c.activation, 0, 0, "gelu|relu",
       "MLP activation (relu: the multiplication-task paper's model; gelu takes the form in gelu)"},
      {"intermediate_size", &c.intermediate_size, 0, 1e7, "",
       "matmulfree: GLU width I (0: the reference's rule 256*ceil(int(8*n_embd/3)/256))"},
      {"use_lower_bound", &c.use_lower_bound, 0, 0, "", "matmulfree: HGRN's learned lower bound on the forget gate"},
      {"rms_norm_eps", &c.rms_norm_eps, 1e-12, 1, "", "matmulfree: eps of every RMSNorm (BitLinear's too)"},
      {"learning_rate", &c.learning_rate, 0, 10, "", "peak learning rate"},
      {"max_iters", &c.max_iters, 0, kBig, "", "optimizer steps"},
      {"weight_decay", &c.weight_decay, 0, 10, "", "AdamW decoupled weight decay (≥2-D weights only)"},
      {"beta1", &c.beta1, 0, 0.999999, "", "AdamW β1"},
      {"beta2", &c.beta2, 0, 0.999999, "", "AdamW β2"},
      {"eps", &c.eps, 1e-30, 1, "", "AdamW ε"},
      {"grad_clip", &c.grad_clip, 0, 1e6, "", "global gradient-norm clip (0: off)"},
      {"decay_lr", &c.decay_lr, 0, 0, "", "warmup + cosine decay (false: constant learning_rate)"},
      {"warmup_iters", &c.warmup_iters, 0, kBig, "", "linear warmup iterations"},
      {"lr_decay_iters", &c.lr_decay_iters, 1, kBig, "", "iteration where the cosine reaches min_lr"},
      {"min_lr", &c.min_lr, 0, 10, "", "final learning rate"},
      {"seed", &c.seed, 0, 9.2e18, "", "seed of init, batches and dropout"},
      {"threads", &c.threads, 0, 4096, "", "threads (0: all cores)"},
      {"arith.linear", &c.arith.linear, 0, 0, "", "arithmetic of the Linear layers (q/k/v, proj, fc)"},
      {"arith.attention", &c.arith.attention, 0, 0, "", "arithmetic of Q·Kᵀ and P·V"},
      {"arith.head", &c.arith.head, 0, 0, "", "arithmetic of lm_head"},
      {"arith.embedding", &c.arith.embedding, 0, 0, "", "quantisation of the wte/wpe tables"},
      {"arith.backward", &c.arith.backward, 0, 0, "", "gradient GEMMs: same | exact | SPEC"},
  };
}

namespace {
std::string known_keys(TrainConfig& c) {
  std::string s;
  for (auto& k : config_keys(c)) s += (s.empty() ? "" : ", ") + k.name;
  return s;
}

ConfigKey& find_key(std::vector<ConfigKey>& keys, TrainConfig& c, const std::string& name, const std::string& where) {
  std::vector<std::string> names;
  for (auto& k : keys) {
    if (k.name == name) return k;
    names.push_back(k.name);
  }
  if (const std::string near = nearest_name(name, names); !near.empty())
    throw Error("{}: unknown key '{}' (did you mean '{}'?)", where, name, near);
  throw Error("{}: unknown key '{}' (known keys: {})", where, name, known_keys(c));
}

void set_from_toml(ConfigKey& k, const toml::node& n, const std::string& where) {
  const std::string at = fmt::format("{}: key '{}'", where, k.name);
  std::visit(
      [&](auto* p) {
        using T = std::remove_pointer_t<decltype(p)>;
        if constexpr (std::is_same_v<T, int64_t>) {
          if (!n.is_integer()) throw Error("{} must be an integer", at);
          *p = n.as_integer()->get();
        } else if constexpr (std::is_same_v<T, double>) {
          if (n.is_integer())
            *p = static_cast<double>(n.as_integer()->get());
          else if (n.is_floating_point())
            *p = n.as_floating_point()->get();
          else
            throw Error("{} must be a number", at);
        } else if constexpr (std::is_same_v<T, bool>) {
          if (!n.is_boolean()) throw Error("{} must be true or false", at);
          *p = n.as_boolean()->get();
        } else {
          if (!n.is_string()) throw Error("{} must be a string", at);
          *p = n.as_string()->get();
        }
      },
      k.value);
}

void set_from_text(ConfigKey& k, std::string v, const std::string& where) {
  const std::string at = fmt::format("{}: {}={}", where, k.name, v);
  std::visit(
      [&](auto* p) {
        using T = std::remove_pointer_t<decltype(p)>;
        char* end = nullptr;
        errno = 0;
        if constexpr (std::is_same_v<T, int64_t>) {
          long long x = std::strtoll(v.c_str(), &end, 10);
          if (v.empty() || *end || errno) throw Error("{}: not an integer", at);
          *p = x;
        } else if constexpr (std::is_same_v<T, double>) {
          double x = std::strtod(v.c_str(), &end);
          if (v.empty() || *end || errno || !std::isfinite(x)) throw Error("{}: not a number", at);
          *p = x;
        } else if constexpr (std::is_same_v<T, bool>) {
          if (v == "true" || v == "1")
            *p = true;
          else if (v == "false" || v == "0")
            *p = false;
          else
            throw Error("{}: must be true or false", at);
        } else {
          if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front())
            v = v.substr(1, v.size() - 2);
          *p = v;
        }
      },
      k.value);
}

constexpr std::string_view kModulesPrefix = "arith.modules.";

// [arith.modules]: "PATTERN" = "SPEC" rows, kept as given until validate() resolves them.
void walk_modules(const toml::table& t, TrainConfig& c, const std::string& file) {
  for (const auto& [key, node] : t) {
    const std::string at = fmt::format("{}:{}: arith.modules.\"{}\"", file, node.source().begin.line, key.str());
    if (!node.is_string())
      throw Error("{} must be a spec string, e.g. \"int:b=4\" (keys are module names or * globs)", at);
    if (key.str().empty()) throw Error("{}: the module name must not be empty", at);
    c.arith.modules[std::string(key.str())] = node.as_string()->get();
  }
}

void walk(const toml::table& t, const std::string& prefix, std::vector<ConfigKey>& keys, TrainConfig& c,
          const std::string& file) {
  for (const auto& [key, node] : t) {
    const std::string name = prefix + std::string(key.str());
    if (const auto* sub = node.as_table()) {
      if (prefix.empty() && name == "arith") {
        walk(*sub, "arith.", keys, c, file);
        continue;
      }
      if (name == "arith.modules") {
        walk_modules(*sub, c, file);
        continue;
      }
      throw Error("{}: unknown table [{}] (the tables are [arith] and [arith.modules])", file, name);
    }
    const auto& src = node.source();
    set_from_toml(find_key(keys, c, name, fmt::format("{}:{}", file, src.begin.line)), node,
                  fmt::format("{}:{}", file, src.begin.line));
  }
}
}  // namespace

void apply_override(TrainConfig& c, const std::string& assignment, const std::string& source) {
  const size_t eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    throw Error("{} '{}': expected key=value, e.g. --set max_iters=100", source, assignment);
  if (const size_t bad = data::first_invalid_utf8(assignment); bad != std::string::npos)
    throw Error("{} {}: byte {} (0x{:02x}) is not valid UTF-8; keys and values are UTF-8 text", source,
                assignment.substr(0, std::min(eq, bad)), bad, static_cast<unsigned char>(assignment[bad]));
  const std::string key = assignment.substr(0, eq);
  if (key.starts_with(kModulesPrefix) || key == "arith.modules") {
    std::string pattern = key.substr(std::min(key.size(), kModulesPrefix.size())), spec = assignment.substr(eq + 1);
    if (pattern.empty())
      throw Error("{} '{}': name the module, e.g. --set 'arith.modules.transformer.h.*.mlp.c_fc=int:b=4'", source,
                  assignment);
    if (spec.size() >= 2 && (spec.front() == '"' || spec.front() == '\'') && spec.back() == spec.front())
      spec = spec.substr(1, spec.size() - 2);
    set_module_pattern(c.arith.modules, pattern, spec);
    return;
  }
  auto keys = config_keys(c);
  set_from_text(find_key(keys, c, key, source), assignment.substr(eq + 1), source);
}

TrainConfig load_config(const std::string& path, const std::vector<std::string>& overrides) {
  TrainConfig c;
  c.source = path;
  toml::table t;
  try {
    t = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    const auto& s = e.source();
    if (!s.path) throw Error("{}: cannot read the config file", path);
    throw Error("{}:{}:{}: {}", path, s.begin.line, s.begin.column, e.description());
  }
  auto keys = config_keys(c);
  walk(t, "", keys, c, path);
  for (const auto& o : overrides) apply_override(c, o, "--set");
  validate(c);
  return c;
}

TrainConfig config_from_json(const nlohmann::json& j, const std::string& source,
                             const std::vector<std::string>& overrides) {
  TrainConfig c;
  c.source = source;
  auto set = [&](const std::string& key, const nlohmann::json& v) {
    apply_override(c, key + "=" + (v.is_string() ? v.get<std::string>() : v.dump()), source);
  };
  for (const auto& [k, v] : j.items()) {
    if (k == "arith" && v.is_object()) {
      for (const auto& [ak, av] : v.items()) {
        if (ak == "modules" && av.is_object()) {
          for (const auto& [m, spec] : av.items()) set(std::string(kModulesPrefix) + m, spec);
        } else {
          set("arith." + ak, av);
        }
      }
    } else {
      set(k, v);
    }
  }
  for (const auto& o : overrides) apply_override(c, o, "--set");
  validate(c);
  return c;
}

namespace {
// Canonical specs, then the patterns resolved against the model's modules: from here on the table
// names modules explicitly (what config.toml, the metrics header and checkpoints record).
void validate_modules(TrainConfig& c, const std::string& f) {
  if (c.arith.modules.empty()) return;
  for (auto& [pattern, spec] : c.arith.modules) {
    try {
      spec = arith::make_multiplier(spec)->spec();
    } catch (const Error& e) {
      throw Error("{}: arith.modules.{}: {}", f, pattern, e.what());
    }
  }
  const ResolvedModules r = resolve_modules(c.arith.modules, gemm_module_names(c), f);
  for (const auto& g : r.unmatched_globs)
    fmt::print(stderr, "lmul: warning: {}: arith.modules: '{}' matches no module of this model (it has no effect)\n", f,
               g);
  c.arith.modules = r.specs;
}

// Keys of one architecture given to the other: a config that sets them means something the model
// will not do. A key counts as given when its value differs from the default (a resolved config
// lists every key with its default).
void check_architecture_keys(TrainConfig& c, const std::string& f) {
  const TrainConfig d;
  if (c.model == "matmulfree") {
    auto refuse = [&](const char* key, bool changed, const std::string& value) {
      if (changed)
        throw Error("{}: {}={} is a GPT key; model='matmulfree' has no such part (remove it, or set model='gpt')", f,
                    key, value);
    };
    refuse("n_head", c.n_head != d.n_head, std::to_string(c.n_head));
    refuse("dropout", c.dropout != d.dropout, fmt::format("{}", c.dropout));
    refuse("bias", c.bias != d.bias, c.bias ? "true" : "false");
    refuse("gelu", c.gelu != d.gelu, "'" + c.gelu + "'");
    refuse("activation", c.activation != d.activation, "'" + c.activation + "'");
    // The arithmetic of sites this architecture does not have: it cannot honour them.
    if (c.arith.attention != "exact")
      throw Error(
          "{}: arith.attention='{}': model='matmulfree' has no attention products (its token mixer is an "
          "element-wise recurrence); remove the key",
          f, c.arith.attention);
    if (c.arith.embedding != "exact")
      throw Error(
          "{}: arith.embedding='{}': model='matmulfree' keeps its embedding table fp32 as the reference does; "
          "remove the key",
          f, c.arith.embedding);
  } else {
    auto refuse = [&](const char* key, bool changed, const std::string& value) {
      if (changed)
        throw Error(
            "{}: {}={} is a MatMul-free key; model='gpt' does not use it (remove it, or set model='matmulfree')", f,
            key, value);
    };
    refuse("intermediate_size", c.intermediate_size != d.intermediate_size, std::to_string(c.intermediate_size));
    refuse("use_lower_bound", c.use_lower_bound != d.use_lower_bound, c.use_lower_bound ? "true" : "false");
    refuse("rms_norm_eps", c.rms_norm_eps != d.rms_norm_eps, fmt::format("{}", c.rms_norm_eps));
  }
}
}  // namespace

void validate(TrainConfig& c) {
  const std::string& f = c.source.empty() ? std::string("config") : c.source;
  for (auto& k : config_keys(c)) {
    std::visit(
        [&](auto* p) {
          using T = std::remove_pointer_t<decltype(p)>;
          if constexpr (std::is_same_v<T, int64_t> || std::is_same_v<T, double>) {
            const double v = static_cast<double>(*p);
            if (!(v >= k.lo && v <= k.hi))  // written so that NaN (TOML's nan) is out of range too
              throw Error("{}: {}={} is out of range (allowed {}..{})", f, k.name, *p, k.lo, k.hi);
          } else if constexpr (std::is_same_v<T, std::string>) {
            if (!k.choices.empty() && ("|" + k.choices + "|").find("|" + *p + "|") == std::string::npos)
              throw Error("{}: {}='{}' is not allowed (choose {})", f, k.name, *p, k.choices);
            if (k.choices.empty() && p->empty()) throw Error("{}: {} must not be empty", f, k.name);
          }
        },
        k.value);
  }
  check_architecture_keys(c, f);
  if (c.model == "gpt" && c.n_embd % c.n_head != 0)
    throw Error("{}: n_embd={} is not divisible by n_head={} (choose n_head dividing n_embd)", f, c.n_embd, c.n_head);
  if (c.decay_lr && c.lr_decay_iters <= c.warmup_iters)
    throw Error("{}: lr_decay_iters={} must be greater than warmup_iters={} (or set decay_lr=false)", f,
                c.lr_decay_iters, c.warmup_iters);
  if (c.min_lr > c.learning_rate) throw Error("{}: min_lr={} is above learning_rate={}", f, c.min_lr, c.learning_rate);
  const std::pair<const char*, std::string*> sites[] = {{"arith.linear", &c.arith.linear},
                                                        {"arith.attention", &c.arith.attention},
                                                        {"arith.head", &c.arith.head},
                                                        {"arith.embedding", &c.arith.embedding}};
  for (auto [key, spec] : sites) {
    try {
      *spec = arith::make_multiplier(*spec)->spec();  // canonical form
    } catch (const Error& e) {
      throw Error("{}: {}: {}", f, key, e.what());
    }
  }
  if (c.arith.backward != "same" && c.arith.backward != "exact") {
    try {
      c.arith.backward = arith::make_multiplier(c.arith.backward)->spec();
    } catch (const Error& e) {
      throw Error("{}: arith.backward (same | exact | SPEC): {}", f, e.what());
    }
  }
  validate_modules(c, f);
}

std::string to_toml(TrainConfig& c) {
  toml::table root, arith;
  for (auto& k : config_keys(c)) {
    toml::table& t = k.name.starts_with("arith.") ? arith : root;
    const std::string key = k.name.starts_with("arith.") ? k.name.substr(6) : k.name;
    std::visit([&](auto* p) { t.insert_or_assign(key, *p); }, k.value);
  }
  if (!c.arith.modules.empty()) {
    toml::table modules;
    for (const auto& [m, spec] : c.arith.modules) modules.insert_or_assign(m, spec);
    arith.insert_or_assign("modules", modules);
  }
  root.insert_or_assign("arith", arith);
  std::ostringstream s;
  s << "# resolved configuration written by lmul train\n" << root << "\n";
  return s.str();
}

std::string arith_summary(const nlohmann::ordered_json& arith, const std::string& sep) {
  auto text = [](const nlohmann::ordered_json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); };
  std::string s;
  for (const auto& [k, v] : arith.items()) {
    if (k == "modules" && v.is_object()) {  // [arith.modules]: one module=spec each
      for (const auto& [m, spec] : v.items()) s += fmt::format("{}{}={}", sep, m, text(spec));
      continue;
    }
    s += fmt::format("{}{}={}", s.empty() ? "" : sep, k, text(v));
  }
  return s;
}

nlohmann::ordered_json to_json(TrainConfig& c) {
  nlohmann::ordered_json j, a;
  for (auto& k : config_keys(c)) {
    auto& t = k.name.starts_with("arith.") ? a : j;
    const std::string key = k.name.starts_with("arith.") ? k.name.substr(6) : k.name;
    std::visit([&](auto* p) { t[key] = *p; }, k.value);
  }
  if (!c.arith.modules.empty()) a["modules"] = c.arith.modules;
  j["arith"] = a;
  return j;
}

nn::GPTConfig model_config(const TrainConfig& c, int64_t vocab_size) {
  nn::GPTConfig m;
  m.block_size = c.block_size;
  m.vocab_size = vocab_size;
  m.n_layer = c.n_layer;
  m.n_head = c.n_head;
  m.n_embd = c.n_embd;
  m.dropout = static_cast<float>(c.dropout);
  m.bias = c.bias;
  m.gelu_tanh = c.gelu == "tanh";
  m.relu = c.activation == "relu";
  return m;
}

nn::MatMulFreeConfig matmulfree_config(const TrainConfig& c, int64_t vocab_size) {
  nn::MatMulFreeConfig m;
  m.block_size = c.block_size;
  m.vocab_size = vocab_size;
  m.n_layer = c.n_layer;
  m.n_embd = c.n_embd;
  m.intermediate_size = c.intermediate_size;
  m.use_lower_bound = c.use_lower_bound;
  m.rms_norm_eps = static_cast<float>(c.rms_norm_eps);
  return m;
}

}  // namespace lmul::train
