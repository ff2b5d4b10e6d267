// What a run's resolved config says for comparison purposes: its arithmetic as a short label,
// its seed, and which keys make two runs different experiments.
#pragma once
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace lmul::report {

// The config flattened to "key" / "table.key" → scalar value (arrays stay as one value).
using FlatConfig = std::map<std::string, nlohmann::json, std::less<>>;
FlatConfig flatten_config(const nlohmann::json& config);

// How a config key bears on comparing runs:
//   seed        — runs differing only here are seeds of one experiment (grouped, mean ± std);
//   arith       — the experiment's variable ("arith.*");
//   bookkeeping — does not change the trajectory (out_dir, log/eval intervals, threads, ...);
//   length      — max_iters: runs of different lengths are separate groups, still comparable;
//   setup       — everything else (model shape, data, batch, optimiser, schedule): runs that
//                 differ here are compared with a warning naming the keys.
enum class KeyRole { seed, arith, bookkeeping, length, setup };
KeyRole key_role(std::string_view key);

// The run's seed, if the config has an integer "seed".
std::optional<long long> config_seed(const nlohmann::json& config);

// Short label of an "arith" object: its non-exact sites as "site=spec" joined by " ", options at
// their default value left out ("linear=lmul:m=4"); "exact" when every site is exact. The
// backward spec is shown when it is not "same" ("linear=fp8:e4m3 backward=exact").
std::string arith_label(const nlohmann::json& config);
// True when every GEMM site, forward and backward, is exact fp32.
bool is_exact_arith(const nlohmann::json& config);
// A spec with the options that equal the format's defaults dropped ("lmul:m=4,variant=bits,
// round=rne" → "lmul:m=4"); specs the registry does not know are returned as written.
std::string short_spec(std::string_view spec);

// The family a spec belongs to, from its format name, as papers group formats: "lmul:m=3" and
// "lmul:m=4,variant=formula" → "L-Mul"; "fp8:…" → "fp8"; "pot:…" → "PoT"; "int:…" → "int";
// "ternary"; "float:…", "bf16", "fp16" → "float"; "exact"; any other format → its own name.
std::string spec_family(std::string_view spec);
// The family of a run's arithmetic: that of its first non-exact spec in label order (linear,
// attention, head, embedding, other sites, then backward), so "attention=lmul:m=4" is L-Mul and
// "linear=pot:b=4 embedding=pot:b=4" PoT; "exact" when every site is exact.
std::string arith_family(const nlohmann::json& config);

// Keys of the given role whose values are not the same in every config (a key missing from some
// config counts as differing), in key order.
std::vector<std::string> differing_keys(const std::vector<FlatConfig>& configs, KeyRole role);
// A value as a short string for tables and messages ("0.001", "shakespeare_char", "—" if absent).
std::string value_text(const FlatConfig& config, std::string_view key);

}  // namespace lmul::report
