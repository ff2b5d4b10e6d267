// Config keys, seeds and arithmetic labels for `lmul compare`.
#include "apps/report/run_config.h"

#include <array>
#include <set>

#include <fmt/format.h>

#include "core/arith/arith.h"

namespace lmul::report {

namespace {

void flatten_into(const nlohmann::json& j, const std::string& prefix, FlatConfig& out) {
  for (const auto& [key, value] : j.items()) {
    std::string name = prefix.empty() ? key : prefix + "." + key;
    if (value.is_object())
      flatten_into(value, name, out);
    else
      out[name] = value;
  }
}

// Keys that do not change what is trained, only what is logged or where it goes. nanoGPT's names
// (docs/ARCHITECTURE.md §5) plus the obvious relatives.
constexpr std::array<std::string_view, 14> kBookkeepingKeys = {
    "out_dir",       "log_interval", "eval_interval",          "eval_iters",    "eval_only",
    "threads",       "init_from",    "always_save_checkpoint", "ckpt_interval", "checkpoint_interval",
    "save_interval", "wandb_log",    "wandb_project",          "wandb_run_name"};

// The GEMM sites in the order the labels list them (docs/ARCHITECTURE.md §3).
constexpr std::array<std::string_view, 4> kSites = {"linear", "attention", "head", "embedding"};

bool is_exact_spec(const nlohmann::json& spec) { return spec.is_string() && spec.get<std::string>() == "exact"; }

std::string spec_text(const nlohmann::json& spec) {
  return spec.is_string() ? short_spec(spec.get<std::string>()) : spec.dump();
}

}  // namespace

FlatConfig flatten_config(const nlohmann::json& config) {
  FlatConfig out;
  if (config.is_object()) flatten_into(config, "", out);
  return out;
}

KeyRole key_role(std::string_view key) {
  if (key == "seed") return KeyRole::seed;
  if (key.starts_with("arith.")) return KeyRole::arith;
  if (key == "max_iters") return KeyRole::length;
  for (auto k : kBookkeepingKeys)
    if (key == k) return KeyRole::bookkeeping;
  return KeyRole::setup;
}

std::optional<long long> config_seed(const nlohmann::json& config) {
  if (!config.is_object()) return std::nullopt;
  const auto it = config.find("seed");
  if (it == config.end() || !it->is_number_integer()) return std::nullopt;
  return it->get<long long>();
}

std::string short_spec(std::string_view spec) {
  const auto colon = spec.find(':');
  if (colon == std::string_view::npos) return std::string(spec);
  std::string canonical;
  try {
    canonical = arith::make_multiplier(spec)->spec();
  } catch (const std::exception&) {
    return std::string(spec);  // not (yet) a registered format: show it as written
  }
  std::vector<std::string> options;
  for (size_t begin = colon + 1; begin <= spec.size();) {
    size_t end = spec.find(',', begin);
    if (end == std::string_view::npos) end = spec.size();
    options.emplace_back(spec.substr(begin, end - begin));
    begin = end + 1;
  }
  // Drop options one at a time while the canonical spec stays the same: those are defaults.
  const std::string name(spec.substr(0, colon));
  const auto join = [&](const std::vector<std::string>& opts) {
    std::string s = name;
    for (size_t i = 0; i < opts.size(); ++i) s += (i == 0 ? ":" : ",") + opts[i];
    return s;
  };
  for (size_t i = 0; i < options.size();) {
    auto fewer = options;
    fewer.erase(fewer.begin() + static_cast<std::ptrdiff_t>(i));
    bool same = false;
    try {
      same = arith::make_multiplier(join(fewer))->spec() == canonical;
    } catch (const std::exception&) {
    }
    if (same)
      options = std::move(fewer);
    else
      ++i;
  }
  return join(options);
}

bool is_exact_arith(const nlohmann::json& config) {
  if (!config.is_object() || !config.contains("arith") || !config["arith"].is_object()) return false;
  // The reference row is the fp32 GPT: another architecture is compared against it, not made it.
  if (const auto m = config.find("model"); m != config.end() && m->is_string() && m->get<std::string>() != "gpt")
    return false;
  for (const auto& [site, spec] : config["arith"].items()) {
    if (site == "backward" && spec.is_string() && spec.get<std::string>() == "same") continue;
    if (site == "modules" && spec.is_object()) {  // [arith.modules]: module → spec
      for (const auto& [module, m] : spec.items())
        if (!is_exact_spec(m)) return false;
      continue;
    }
    if (!is_exact_spec(spec)) return false;
  }
  return true;
}

std::string arith_label(const nlohmann::json& config) {
  if (!config.is_object() || !config.contains("arith") || !config["arith"].is_object()) return "(arith unknown)";
  const nlohmann::json& arith = config["arith"];
  std::string label;
  const auto add = [&](std::string_view site, const nlohmann::json& spec) {
    label += fmt::format("{}{}={}", label.empty() ? "" : " ", site, spec_text(spec));
  };
  for (auto site : kSites)
    if (arith.contains(site) && !is_exact_spec(arith[site])) add(site, arith[site]);
  // Sites this version does not know about, so that a newer trainer's runs are still told apart.
  for (const auto& [site, spec] : arith.items()) {
    bool known = site == "backward";
    for (auto s : kSites) known = known || site == s;
    if (site == "modules" && spec.is_object()) {  // per-module specs, each named by its module
      for (const auto& [module, m] : spec.items()) add(module, m);
      continue;
    }
    if (!known && !is_exact_spec(spec)) add(site, spec);
  }
  if (arith.contains("backward")) {
    const auto& bwd = arith["backward"];
    const bool same = bwd.is_string() && bwd.get<std::string>() == "same";
    // backward=exact under an all-exact forward is still all exact: nothing to say.
    if (!same && !(label.empty() && is_exact_spec(bwd))) add("backward", bwd);
  }
  if (label.empty()) label = "exact";
  // A second architecture is part of what a run is: its runs never group with the GPT's, and the
  // table says which model each row trained (nanoGPT's GPT stays unprefixed).
  if (const auto m = config.find("model"); m != config.end() && m->is_string() && m->get<std::string>() != "gpt")
    label = m->get<std::string>() + ": " + label;
  return label;
}

std::string spec_family(std::string_view spec) {
  const std::string_view name = spec.substr(0, spec.find(':'));
  constexpr std::array<std::pair<std::string_view, std::string_view>, 9> kFamilies = {{{"exact", "exact"},
                                                                                       {"lmul", "L-Mul"},
                                                                                       {"fp8", "fp8"},
                                                                                       {"pot", "PoT"},
                                                                                       {"int", "int"},
                                                                                       {"ternary", "ternary"},
                                                                                       {"float", "float"},
                                                                                       {"bf16", "float"},
                                                                                       {"fp16", "float"}}};
  for (const auto& [format, family] : kFamilies)
    if (name == format) return std::string(family);
  return std::string(name);
}

std::string arith_family(const nlohmann::json& config) {
  if (!config.is_object() || !config.contains("arith") || !config["arith"].is_object()) return "unknown";
  const nlohmann::json& arith = config["arith"];
  const auto family = [](const nlohmann::json& spec) {
    return spec.is_string() ? spec_family(spec.get<std::string>()) : std::string("unknown");
  };
  for (auto site : kSites)
    if (arith.contains(site) && !is_exact_spec(arith[site])) return family(arith[site]);
  for (const auto& [site, spec] : arith.items()) {
    bool known = site == "backward";
    for (auto s : kSites) known = known || site == s;
    if (site == "modules" && spec.is_object()) {
      for (const auto& [module, m] : spec.items())
        if (!is_exact_spec(m)) return family(m);
      continue;
    }
    if (!known && !is_exact_spec(spec)) return family(spec);
  }
  if (arith.contains("backward")) {
    const auto& bwd = arith["backward"];
    if (!is_exact_spec(bwd) && !(bwd.is_string() && bwd.get<std::string>() == "same")) return family(bwd);
  }
  return "exact";
}

std::vector<std::string> differing_keys(const std::vector<FlatConfig>& configs, KeyRole role) {
  std::set<std::string> keys;
  for (const auto& c : configs)
    for (const auto& [k, v] : c)
      if (key_role(k) == role) keys.insert(k);
  std::vector<std::string> out;
  for (const auto& k : keys) {
    bool differ = false;
    for (const auto& c : configs) {
      const auto it = c.find(k), first = configs.front().find(k);
      const bool has = it != c.end(), first_has = first != configs.front().end();
      differ = differ || has != first_has || (has && it->second != first->second);
    }
    if (differ) out.push_back(k);
  }
  return out;
}

std::string value_text(const FlatConfig& config, std::string_view key) {
  const auto it = config.find(key);
  if (it == config.end()) return "—";
  return it->second.is_string() ? it->second.get<std::string>() : it->second.dump();
}

}  // namespace lmul::report
