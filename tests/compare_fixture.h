// Synthetic run directories for the compare tests: a temp dir per test, metrics.jsonl written
// line by line so that tests can add broken, partial or out-of-order lines.
#pragma once
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "tests/temp_dir.h"

namespace lmul::test {

// A resolved config as the trainer writes it: the baby-GPT shape, linear site set, rest exact.
inline nlohmann::json run_config(const std::string& linear = "exact", long long seed = 1337) {
  return {
      {"n_layer", 4},
      {"n_head", 4},
      {"n_embd", 128},
      {"block_size", 64},
      {"batch_size", 12},
      {"max_iters", 2000},
      {"learning_rate", 1e-3},
      {"dataset", "shakespeare_char"},
      {"seed", seed},
      {"out_dir", "out"},
      {"eval_interval", 250},
      {"arith",
       {{"linear", linear}, {"attention", "exact"}, {"head", "exact"}, {"embedding", "exact"}, {"backward", "same"}}}};
}

// The same config with several sites set ({"attention": "lmul:m=4"}); sites not named stay exact.
inline nlohmann::json run_config_sites(const nlohmann::json& sites, long long seed = 1337) {
  nlohmann::json config = run_config("exact", seed);
  for (const auto& [site, spec] : sites.items()) config["arith"][site] = spec;
  return config;
}

inline std::string step_line(long long step, double train, std::optional<double> val = std::nullopt,
                             double tokens_per_s = 19000, double ms_per_step = 40) {
  nlohmann::json j = {{"step", step},
                      {"train_loss", train},
                      {"lr", 1e-3},
                      {"ms_per_step", ms_per_step},
                      {"tokens_per_s", tokens_per_s},
                      {"grad_norm", 0.8}};
  if (val) j["val_loss"] = *val;
  return j.dump();
}

// Writes dir/metrics.jsonl: the header line (unless config is null) then the lines as given,
// each ending in a newline unless last_newline is false (a line the trainer is still writing).
inline std::filesystem::path write_run(const std::filesystem::path& dir, const nlohmann::json& config,
                                       const std::vector<std::string>& lines, bool last_newline = true) {
  std::filesystem::create_directories(dir);
  std::ofstream out(dir / "metrics.jsonl", std::ios::binary);
  if (!config.is_null()) out << nlohmann::json{{"config", config}}.dump() << "\n";
  for (size_t i = 0; i < lines.size(); ++i) out << lines[i] << (i + 1 < lines.size() || last_newline ? "\n" : "");
  return dir;
}

// A complete run: train loss every 50 steps, val loss every 250, the final val loss given.
inline std::filesystem::path write_finished_run(const std::filesystem::path& dir, const nlohmann::json& config,
                                                double final_val, double tokens_per_s = 19000) {
  std::vector<std::string> lines;
  for (long long s = 0; s <= 1000; s += 50) {
    const double val = final_val + 2.0 * (1000 - s) / 1000.0;
    lines.push_back(step_line(s, val - 0.02, s % 250 == 0 ? std::optional<double>(val) : std::nullopt, tokens_per_s));
  }
  return write_run(dir, config, lines);
}

// A sweep as the README's formats sweep: its 16 arithmetics (exact, six L-Mul, three fp8, four
// PoT, ternary, int8, as configs/sweeps/formats_shakespeare_char.toml) × seeds 1, 2, 3, each run
// finished (write_finished_run) at a made-up final val loss: a per-seed base plus a per-group
// shift plus a small per-seed wobble, so that groups differ, seeds pair, and the same-seed
// differences have a spread. Returns the run dirs in sweep order.
struct FixtureGroup {
  nlohmann::json sites;  // site → spec
  double shift;          // final val loss minus the exact run's of the same seed, on average
};
inline const std::vector<FixtureGroup>& formats_sweep_groups() {
  static const std::vector<FixtureGroup> groups = {
      {{{"linear", "exact"}}, 0.0},
      {{{"linear", "lmul:m=3"}}, -0.0056},
      {{{"linear", "lmul:m=4"}}, -0.0055},
      {{{"linear", "lmul:m=3,variant=formula"}}, 0.0114},
      {{{"linear", "lmul:m=4,variant=formula"}}, 0.0150},
      {{{"linear", "fp8:e4m3,scale=delayed"}}, 0.0053},
      {{{"linear", "fp8:e5m2,scale=delayed"}}, 0.0114},
      {{{"linear", "fp8:hybrid,scale=delayed"}}, -0.0001},
      {{{"linear", "pot:b=4"}}, 0.0063},
      {{{"linear", "pot:b=5"}}, 0.0031},
      {{{"linear", "pot:b=6"}}, 0.0002},
      {{{"linear", "ternary"}}, 0.1336},
      {{{"linear", "int:b=8"}}, -0.0009},
      {{{"attention", "lmul:m=4"}}, -0.0001},
      {{{"linear", "lmul:m=4"}, {"attention", "lmul:m=4"}, {"head", "lmul:m=4"}}, -0.0126},
      {{{"linear", "pot:b=4"}, {"head", "pot:b=4"}, {"embedding", "pot:b=4"}}, 0.0220},
  };
  return groups;
}

inline std::vector<std::filesystem::path> write_formats_sweep(const std::filesystem::path& dir) {
  const double seed_base[3] = {1.8925, 1.8998, 1.9062};
  std::vector<std::filesystem::path> runs;
  const auto& groups = formats_sweep_groups();
  for (size_t g = 0; g < groups.size(); ++g)
    for (int seed = 1; seed <= 3; ++seed) {
      const double wobble = g == 0 ? 0.0 : 0.004 * static_cast<double>((static_cast<int>(g) * 7 + seed * 3) % 5 - 2);
      const auto name = fmt::format("g{:02}.seed{}", g, seed);
      runs.push_back(write_finished_run(dir / name, run_config_sites(groups[g].sites, seed),
                                        seed_base[seed - 1] + groups[g].shift + wobble));
    }
  return runs;
}

// How often `what` occurs in text (non-overlapping).
inline size_t count_of(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t p = 0; (p = text.find(what, p)) != std::string::npos; p += what.size()) ++n;
  return n;
}

inline std::string read_text(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace lmul::test
