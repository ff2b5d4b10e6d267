#include "train/resume.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "core/error.h"
#include "train/config.h"

namespace lmul::train {

nlohmann::ordered_json resume_changes(const nlohmann::json& saved, const nlohmann::ordered_json& now,
                                      const std::string& checkpoint, const std::vector<std::string>& allowed) {
  // A key the checkpoint predates (e.g. model, added with the second architecture) had its default.
  TrainConfig defaults;
  const nlohmann::json default_json = to_json(defaults);
  for (const char* key : kShapeKeys) {
    const auto old_v = saved.contains(key) ? saved[key] : default_json.value(key, nlohmann::json());
    const auto new_v = now.contains(key) ? nlohmann::json(now[key]) : default_json.value(key, nlohmann::json());
    if (old_v != new_v)
      throw Error(
          "{}: cannot resume with {}={}: the checkpoint was trained with {}={} (it fixes the model "
          "shape; remove the change or start a new run)",
          checkpoint, key, new_v.dump(), key, old_v.dump());
  }
  for (const auto& key : allowed) {  // a misspelt key would otherwise allow nothing, silently
    const bool arith_key =
        (key.rfind("arith.", 0) == 0 && now.contains("arith") && now["arith"].contains(key.substr(6))) ||
        key == "arith.modules" || key.rfind("arith.modules.", 0) == 0;
    if (key != "all" && !arith_key && (!now.contains(key) || now[key].is_object()))
      throw Error("--allow-change {}: not a config key (e.g. arith.linear, learning_rate, dataset, or all)", key);
  }
  nlohmann::ordered_json changes = nlohmann::ordered_json::object();
  // A key the checkpoint does not hold was added to lmul after it was written: it ran with the
  // key's default (default_json above).
  auto compare = [&](const std::string& prefix, const nlohmann::json& a, const nlohmann::ordered_json& b) {
    const nlohmann::json& d = prefix.empty() ? default_json : default_json.at("arith");
    for (const auto& [k, v] : b.items()) {
      if (v.is_object() || k == "out_dir" || k == "init_from") continue;
      const auto old_v = a.contains(k) ? a[k] : d.contains(k) ? d[k] : nlohmann::json();
      if (old_v != nlohmann::json(v)) changes[prefix + k] = {old_v, v};
    }
  };
  compare("", saved, now);
  if (now.contains("arith")) compare("arith.", saved.value("arith", nlohmann::json::object()), now["arith"]);
  // [arith.modules]: one change per module whose spec differs (null: the module takes its site's).
  {
    const auto empty = nlohmann::json::object();
    const auto& old_arith = saved.contains("arith") ? saved["arith"] : empty;
    const nlohmann::json old_m = old_arith.is_object() ? old_arith.value("modules", empty) : empty;
    const nlohmann::json new_m = now.contains("arith") ? nlohmann::json(now["arith"]).value("modules", empty) : empty;
    for (const auto* side : {&old_m, &new_m})
      for (const auto& item : side->items()) {
        const std::string& m = item.key();
        const auto a = old_m.contains(m) ? old_m[m] : nlohmann::json();
        const auto b = new_m.contains(m) ? new_m[m] : nlohmann::json();
        if (a != b) changes["arith.modules." + m] = {a, b};
      }
  }
  const bool allow_all = std::find(allowed.begin(), allowed.end(), "all") != allowed.end();
  for (const auto& item : changes.items()) {
    const std::string& key = item.key();  // not a structured binding: clang 14 cannot capture those
    const auto& v = item.value();
    const bool free = std::find_if(std::begin(kFreeResumeKeys), std::end(kFreeResumeKeys),
                                   [&](const char* k) { return key == k; }) != std::end(kFreeResumeKeys);
    const bool whole_modules = key.rfind("arith.modules.", 0) == 0 &&
                               std::find(allowed.begin(), allowed.end(), "arith.modules") != allowed.end();
    if (free || allow_all || whole_modules || std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
    const std::string run_dir = std::filesystem::path(checkpoint).parent_path().parent_path().string();
    throw Error(
        "{}: cannot resume with {}={}: the run was trained with {}={} (continue it as it was with "
        "`lmul train {} --resume`, or pass --allow-change {} to change it on purpose)",
        checkpoint, key, v[1].dump(), key, v[0].dump(), run_dir.empty() ? "RUN_DIR" : run_dir, key);
  }
  return changes;
}

void truncate_metrics(const std::string& path, int64_t step) {
  std::ifstream in(path);
  if (!in) return;  // nothing logged yet
  std::string line, kept;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded()) break;  // a line cut short by a crash: nothing after it is trusted
    if (j.contains("step") && j["step"].is_number_integer() && j["step"].get<int64_t>() >= step) continue;
    kept += line + "\n";
  }
  in.close();
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << kept;
    out.flush();
    if (!out) throw RuntimeFailure(fmt::format("{}: cannot rewrite ({})", path, std::strerror(errno)));
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) throw RuntimeFailure(fmt::format("{}: cannot replace ({})", path, ec.message()));
}

}  // namespace lmul::train
