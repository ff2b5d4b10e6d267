// Reading metrics.jsonl tolerantly: a run may be read while the trainer is still writing it.
#include "apps/report/run_metrics.h"

#include <array>
#include <fstream>
#include <limits>
#include <set>
#include <string_view>
#include <sstream>
#include <utility>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "core/error.h"

namespace lmul::report {
namespace fs = std::filesystem;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// The numeric fields of a step line, and where each goes.
constexpr std::array<std::pair<const char*, std::optional<double> StepRecord::*>, 7> kFields = {{
    {"train_loss", &StepRecord::train_loss},
    {"val_loss", &StepRecord::val_loss},
    {"eval_train_loss", &StepRecord::eval_train_loss},
    {"lr", &StepRecord::lr},
    {"ms_per_step", &StepRecord::ms_per_step},
    {"tokens_per_s", &StepRecord::tokens_per_s},
    {"grad_norm", &StepRecord::grad_norm},
}};

bool is_known_field(std::string_view key) {
  for (const auto& [name, field] : kFields)
    if (key == name) return true;
  return false;
}

// "a/b/" and "a/b" both name run "b"; "." names the current directory.
std::string run_name(const fs::path& dir) {
  fs::path p = dir.lexically_normal();
  if (!p.has_filename()) p = p.parent_path();
  if (p.empty() || p == "." || p == "..") p = fs::absolute(p).lexically_normal();
  if (!p.has_filename()) p = p.parent_path();
  return p.filename().string();
}

// Python's json.dump writes NaN/Infinity for a diverged loss; JSON has no such tokens, so outside
// strings they are read as null (→ NaN) rather than losing the line.
std::string non_finite_as_null(const std::string& line) {
  std::string out;
  bool in_string = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char ch = line[i];
    if (in_string) {
      out += ch;
      if (ch == '\\' && i + 1 < line.size())
        out += line[++i];
      else if (ch == '"')
        in_string = false;
      continue;
    }
    if (ch == '"') in_string = true;
    const std::string_view rest = std::string_view(line).substr(i);
    bool replaced = false;
    for (std::string_view token : {"-Infinity", "Infinity", "NaN"})
      if (!replaced && rest.starts_with(token)) {
        out += "null";
        i += token.size() - 1;
        replaced = true;
      }
    if (!replaced) out += ch;
  }
  return out;
}

nlohmann::json parse_line(const std::string& line) {
  auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (!j.is_discarded() || (line.find("NaN") == std::string::npos && line.find("Infinity") == std::string::npos))
    return j;
  return nlohmann::json::parse(non_finite_as_null(line), nullptr, false);
}

// Fills rec from a step object; returns an empty string or why the line is unusable.
std::string read_step(const nlohmann::json& j, StepRecord& rec) {
  const auto step = j.find("step");
  if (step == j.end()) return "no \"step\" field";
  if (!step->is_number_integer() && !step->is_number_unsigned()) return "\"step\" is not an integer";
  rec.step = step->get<int64_t>();
  if (rec.step < 0) return "\"step\" is negative";
  for (const auto& [key, field] : kFields) {
    const auto v = j.find(key);
    if (v == j.end()) continue;
    if (v->is_null())
      rec.*field = kNaN;
    else if (v->is_number())
      rec.*field = v->get<double>();
    else
      return fmt::format("\"{}\" is not a number", key);
  }
  for (const auto& [key, v] : j.items()) {
    if (key == "step" || is_known_field(key)) continue;
    if (v.is_null())
      rec.other[key] = kNaN;
    else if (v.is_number())
      rec.other[key] = v.get<double>();
  }
  return {};
}

// A step logged again (a resumed run re-logs from its checkpoint step) replaces what was logged
// from that step on; a second line for the same step (eval logged apart from train) is merged.
void add_record(std::vector<StepRecord>& records, const StepRecord& rec) {
  while (!records.empty() && records.back().step > rec.step) records.pop_back();
  if (records.empty() || records.back().step != rec.step) {
    records.push_back(rec);
    return;
  }
  for (const auto& [key, field] : kFields)
    if (rec.*field) records.back().*field = rec.*field;
  for (const auto& [key, value] : rec.other) records.back().other[key] = value;
}

// config.toml as JSON, for runs whose metrics.jsonl lacks the header line.
nlohmann::json config_from_toml(const fs::path& file, std::vector<std::string>& warnings) {
  try {
    const toml::table table = toml::parse_file(file.string());
    std::ostringstream out;
    out << toml::json_formatter{table};
    return nlohmann::json::parse(out.str());
  } catch (const std::exception& e) {
    std::string why = e.what();
    warnings.push_back(fmt::format("{}: not read ({})", file.string(), why.substr(0, why.find('\n'))));
    return nlohmann::json::object();
  }
}

}  // namespace

RunMetrics read_run(const fs::path& dir) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) throw Error("compare: run dir '{}' does not exist", dir.string());
  if (!fs::is_directory(dir, ec)) throw Error("compare: '{}' is not a directory (expected a run dir)", dir.string());
  const fs::path file = dir / "metrics.jsonl";
  std::ifstream in(file);
  if (!in) throw Error("compare: '{}' has no readable metrics.jsonl (is it a run dir?)", dir.string());

  RunMetrics run;
  run.dir = dir;
  run.name = run_name(dir);
  bool have_header = false;
  std::string line;
  for (int64_t line_no = 1; std::getline(in, line); ++line_no) {
    // A last line with no newline is most likely one the trainer is still writing.
    const bool unfinished = in.eof();
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const auto warn = [&](const std::string& why) {
      run.warnings.push_back(fmt::format("{}:{}: {}{}; line skipped", file.string(), line_no, why,
                                         unfinished ? " (unfinished last line: run still writing?)" : ""));
    };
    const nlohmann::json j = parse_line(line);
    if (j.is_discarded()) {
      warn("not valid JSON");
      continue;
    }
    if (!j.is_object()) {
      warn("not a JSON object");
      continue;
    }
    if (j.contains("config") && !j.contains("step")) {
      if (!j["config"].is_object())
        warn("\"config\" is not an object");
      else if (!have_header)
        run.config = j["config"], have_header = true;
      else if (j["config"].value("arith", nlohmann::json()) != run.config.value("arith", nlohmann::json())) {
        // A resume that changed the arithmetic (allowed by name): the losses from here on are of
        // another arithmetic than the run's label says.
        const std::string at = j.contains("resumed_at") ? j["resumed_at"].dump() : "?";
        if (run.arith_changed_at.empty()) run.arith_changed_at = at;
        run.warnings.push_back(
            fmt::format("{}:{}: the arithmetic changed when the run resumed at step {} ({} → {}): its losses mix two "
                        "arithmetics; it is labelled with the first",
                        file.string(), line_no, at, run.config.value("arith", nlohmann::json()).dump(),
                        j["config"].value("arith", nlohmann::json()).dump()));
      } else if (j["config"] != run.config) {
        warn("a second header with a different config (the first one is used)");
      }
      continue;
    }
    StepRecord rec;
    if (std::string why = read_step(j, rec); !why.empty()) {
      warn(why);
      continue;
    }
    add_record(run.records, rec);
  }
  if (!have_header) {
    const fs::path toml_file = dir / "config.toml";
    if (fs::exists(toml_file, ec)) {
      run.config = config_from_toml(toml_file, run.warnings);
    } else {
      run.warnings.push_back(
          fmt::format("{}: no {{\"config\": ...}} header and no config.toml; "
                      "arithmetic and seed unknown",
                      file.string()));
      run.config = nlohmann::json::object();
    }
  }
  return run;
}

MetricSeries metric_series(const RunMetrics& run, const std::string& metric) {
  MetricSeries s;
  const auto add = [&](const StepRecord& rec, double value) {
    s.steps.push_back(static_cast<double>(rec.step));
    s.values.push_back(value);
  };
  for (const auto& [key, field] : kFields)
    if (metric == key) {
      for (const auto& rec : run.records)
        if (rec.*field) add(rec, *(rec.*field));
      return s;
    }
  for (const auto& rec : run.records)
    if (const auto it = rec.other.find(metric); it != rec.other.end()) add(rec, it->second);
  return s;
}

std::vector<std::string> logged_metrics(const RunMetrics& run) {
  std::set<std::string> keys;
  for (const auto& rec : run.records) {
    for (const auto& [key, field] : kFields)
      if (rec.*field) keys.insert(key);
    for (const auto& [key, value] : rec.other) keys.insert(key);
  }
  return {keys.begin(), keys.end()};
}

}  // namespace lmul::report
