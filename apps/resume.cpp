#include "apps/resume.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "core/error.h"

namespace lmul::apps {

nlohmann::ordered_json resume_changes(const nlohmann::json& saved, const nlohmann::ordered_json& now,
                                      const std::string& checkpoint) {
  for (const char* key : kShapeKeys) {
    const auto old_v = saved.contains(key) ? saved[key] : nlohmann::json();
    const auto new_v = now.contains(key) ? nlohmann::json(now[key]) : nlohmann::json();
    if (old_v != new_v)
      throw Error("{}: cannot resume with {}={}: the checkpoint was trained with {}={} (it fixes the model "
                  "shape; remove the change or start a new run)", checkpoint, key, new_v.dump(), key, old_v.dump());
  }
  nlohmann::ordered_json changes = nlohmann::ordered_json::object();
  auto compare = [&](const std::string& prefix, const nlohmann::json& a, const nlohmann::ordered_json& b) {
    for (const auto& [k, v] : b.items()) {
      if (v.is_object() || k == "out_dir" || k == "init_from") continue;
      const auto old_v = a.contains(k) ? a[k] : nlohmann::json();
      if (old_v != nlohmann::json(v)) changes[prefix + k] = {old_v, v};
    }
  };
  compare("", saved, now);
  if (now.contains("arith")) compare("arith.", saved.value("arith", nlohmann::json::object()), now["arith"]);
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
    if (!out) throw RuntimeFailure(fmt::format("{}: cannot write", tmp));
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) throw RuntimeFailure(fmt::format("{}: cannot replace ({})", path, ec.message()));
}

}  // namespace lmul::apps
