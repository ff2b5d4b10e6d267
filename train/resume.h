// What resuming a run checks and rewrites: the config against the checkpoint's, and metrics.jsonl.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace lmul::train {

// Keys that fix the model's shape: changing one on resume is an error.
inline constexpr const char* kShapeKeys[] = {
    "model", "n_layer", "n_head", "n_embd", "block_size", "vocab_size", "bias", "intermediate_size", "use_lower_bound"};

// Keys that may change on resume without changing what the run computes: how long it runs, how
// often it evaluates, logs and saves, and on how many threads. Every other key (the arithmetic,
// the data, the seed, the optimiser and its schedule, ...) defines the experiment: changing one
// would put two experiments under one run's name, so it needs to be allowed by name.
inline constexpr const char* kFreeResumeKeys[] = {"max_iters",           "eval_interval", "eval_iters",
                                                  "log_interval",        "eval_only",     "always_save_checkpoint",
                                                  "checkpoint_interval", "threads"};

// Compares the checkpoint's resolved config with the resumed one (both to_json objects). Throws
// lmul::Error naming a shape key, or a key that defines the experiment and is not in `allowed`
// ("all" allows every such key), with its old and new value; returns the changed keys as
// {key: [old, new]}. out_dir and init_from are ignored; a key the checkpoint lacks counts as its default.
nlohmann::ordered_json resume_changes(const nlohmann::json& saved, const nlohmann::ordered_json& now,
                                      const std::string& checkpoint, const std::vector<std::string>& allowed = {});

// Drops the step lines of metrics.jsonl with step ≥ step (written after the checkpoint, or to be
// written again by the resumed run), keeping header lines; rewritten through a temporary file.
void truncate_metrics(const std::string& path, int64_t step);

}  // namespace lmul::train
