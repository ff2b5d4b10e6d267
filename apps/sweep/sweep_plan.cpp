#include "apps/sweep/sweep_plan.h"

#include <fstream>
#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "train/checkpoint.h"
#include "core/arith/arith.h"
#include "core/error.h"

namespace lmul::apps::sweep {

namespace fs = std::filesystem;

SweepPlan plan_sweep(const SweepRequest& request) {
  SweepPlan p;
  p.request = request;
  if (request.arith.empty())
    throw Error("sweep: no arithmetic given (pass --arith SPEC..., e.g. --arith exact lmul:m=4)");
  parse_sites(request.site, "sweep: --site");
  const train::TrainConfig base = train::load_config(request.config, request.sets);
  p.seeds = request.seeds;
  if (p.seeds.empty()) p.seeds = {base.seed};
  const std::vector<int64_t>& seeds = p.seeds;
  p.dir = request.out.empty() ? base.out_dir + "_sweep" : request.out;

  std::map<std::string, std::string> names;  // run-name stem → entry text, to catch collisions
  for (const auto& text : request.arith) {
    ArithEntry e = parse_arith_entry(text, request.site);
    if (auto [it, fresh] = names.emplace(e.name, text); !fresh)
      throw Error("sweep: --arith entries '{}' and '{}' name the same run '{}' (give each arithmetic once)", it->second,
                  text, e.name);
    p.entries.push_back(std::move(e));
  }
  // Seed by seed: after the first seed's runs every arithmetic has a result to compare.
  for (int64_t seed : seeds) {
    for (size_t i = 0; i < p.entries.size(); ++i) {
      PlannedRun r;
      r.entry = i;
      r.seed = seed;
      r.name = fmt::format("{}.seed{}", p.entries[i].name, seed);
      r.dir = (fs::path(p.dir) / r.name).string();
      r.overrides = request.sets;
      for (const auto& [key, spec] : p.entries[i].assignments)
        r.overrides.push_back(fmt::format("arith.{}={}", key, spec));
      r.overrides.push_back(fmt::format("seed={}", seed));
      r.overrides.push_back("out_dir=" + r.dir);
      p.runs.push_back(std::move(r));
    }
  }
  return p;
}

namespace {

// True when a spec reads as several specs joined by ',' ("exact,lmul:m=4", "lmul:m=4,fp8:e4m3"):
// a format name never holds ',', and an option (k=v) never holds ':' before its '='.
bool looks_comma_joined(const std::string& spec) {
  if (spec.substr(0, spec.find(':')).find(',') != std::string::npos) return true;
  for (size_t c = spec.find(','); c != std::string::npos; c = spec.find(',', c + 1)) {
    const std::string piece = spec.substr(c + 1, spec.find(',', c + 1) - c - 1);
    if (piece.find(':') < piece.find('=')) return true;
  }
  return false;
}

}  // namespace

std::vector<train::TrainConfig> resolve_runs(const SweepPlan& plan) {
  // Specs first, so that the message names the entry and the spec, not a run's config key.
  for (const auto& e : plan.entries)
    for (const auto& [key, spec] : e.assignments) {
      if (key == "backward" && (spec == "same" || spec == "exact")) continue;
      try {
        arith::make_multiplier(spec);
      } catch (const Error& err) {
        if (looks_comma_joined(spec))
          throw Error(
              "sweep: --arith entry '{}': {} (in a sweep file give each entry as its own string: "
              "arith = [\"exact\", \"lmul:m=4\"]; specs use ',' for their options)",
              e.text, err.what());
        throw Error("sweep: --arith entry '{}': {}", e.text, err.what());
      }
    }
  std::vector<train::TrainConfig> configs;
  std::map<std::string, std::string> arith_of;  // canonical arith → entry text
  for (const auto& r : plan.runs) {
    configs.push_back(train::load_config(plan.request.config, r.overrides));
    const auto& a = configs.back().arith;
    const std::string key =
        fmt::format("{} {} {} {} {} seed={}", a.linear, a.attention, a.head, a.embedding, a.backward, r.seed);
    const std::string& text = plan.entries[r.entry].text;
    if (auto [it, fresh] = arith_of.emplace(key, text); !fresh)
      throw Error("sweep: --arith entries '{}' and '{}' give the same arithmetic (drop one)", it->second, text);
  }
  return configs;
}

namespace {

// The last non-empty line of a file ("" if none).
std::string last_line(const fs::path& path) {
  std::ifstream in(path);
  std::string line, last;
  while (std::getline(in, line))
    if (!line.empty()) last = line;
  return last;
}

// The trainer writes the final evaluation, then saves ckpt/latest, then flushes metrics.jsonl:
// a final line on disk thus (bar a full stream buffer) means the final checkpoint is there too;
// the checkpoint's step is checked as well.
bool final_line(const fs::path& metrics, int64_t max_iters) {
  const nlohmann::json j = nlohmann::json::parse(last_line(metrics), nullptr, /*allow_exceptions=*/false);
  return j.is_object() && j.contains("step") && j["step"].is_number_integer() &&
         j["step"].get<int64_t>() == max_iters && j.contains("val_loss");
}

}  // namespace

RunStatus run_status(const fs::path& run_dir, int64_t max_iters) {
  const fs::path ckpt = run_dir / "ckpt" / "latest.safetensors";
  if (!fs::exists(ckpt)) return {};
  const int64_t step = train::read_checkpoint_meta(ckpt.string()).state.iter;
  if (step > max_iters)
    throw Error(
        "{}: the run has trained {} iterations, more than max_iters={} (raise max_iters, or use "
        "another --out)",
        run_dir.string(), step, max_iters);
  const bool done = step == max_iters && final_line(run_dir / "metrics.jsonl", max_iters);
  return {done ? RunState::finished : RunState::interrupted, step};
}

}  // namespace lmul::apps::sweep
