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
  return {{"n_layer", 4},           {"n_head", 4},       {"n_embd", 128},
          {"block_size", 64},       {"batch_size", 12},  {"max_iters", 2000},
          {"learning_rate", 1e-3},  {"dataset", "shakespeare_char"},
          {"seed", seed},           {"out_dir", "out"},  {"eval_interval", 250},
          {"arith", {{"linear", linear}, {"attention", "exact"}, {"head", "exact"},
                     {"embedding", "exact"}, {"backward", "same"}}}};
}

inline std::string step_line(long long step, double train, std::optional<double> val = std::nullopt,
                             double tokens_per_s = 19000, double ms_per_step = 40) {
  nlohmann::json j = {{"step", step}, {"train_loss", train}, {"lr", 1e-3},
                      {"ms_per_step", ms_per_step}, {"tokens_per_s", tokens_per_s}, {"grad_norm", 0.8}};
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

inline std::string read_text(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace lmul::test
