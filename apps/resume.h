// What resuming a run checks and rewrites: the config against the checkpoint's, and metrics.jsonl.
#pragma once
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace lmul::apps {

// Keys that fix the model's shape: changing one on resume is an error.
inline constexpr const char* kShapeKeys[] = {"n_layer", "n_head", "n_embd", "block_size", "vocab_size", "bias"};

// Compares the checkpoint's resolved config with the resumed one (both to_json objects). Throws
// lmul::Error naming a shape key with its old and new value; returns the other changed keys as
// {key: [old, new]} (max_iters, eval settings, schedule, ...). out_dir and init_from are ignored.
nlohmann::ordered_json resume_changes(const nlohmann::json& saved, const nlohmann::ordered_json& now,
                                      const std::string& checkpoint);

// Drops the step lines of metrics.jsonl with step ≥ step (written after the checkpoint, or to be
// written again by the resumed run), keeping header lines; rewritten through a temporary file.
void truncate_metrics(const std::string& path, int64_t step);

}  // namespace lmul::apps
