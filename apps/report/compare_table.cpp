// Formatting the comparison: terminal table, markdown and JSON.
#include "apps/report/compare_table.h"

#include <algorithm>
#include <cctype>
#include <cmath>

#include <fmt/format.h>

namespace lmul::report {

namespace {

// Columns shown on a terminal: code points, not bytes ("±" and "Δ" are two bytes in UTF-8).
size_t display_width(const std::string& s) {
  return static_cast<size_t>(
      std::count_if(s.begin(), s.end(), [](char ch) { return (static_cast<unsigned char>(ch) & 0xC0) != 0x80; }));
}

std::string number_or_dash(double v, const char* spec) {
  return std::isnan(v) ? "—" : fmt::format(fmt::runtime(spec), v);
}

std::string steps_text(const RunGroup& g) {
  return g.min_steps == g.max_steps ? fmt::format("{}", g.max_steps) : fmt::format("{}–{}", g.min_steps, g.max_steps);
}

std::string seeds_text(const RunGroup& g) {
  if (g.seeds.empty()) return "—";
  return fmt::format("{}", fmt::join(g.seeds, ","));
}

// JSON has no NaN: a missing or non-finite number is written as null.
nlohmann::json number(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(); }
nlohmann::json stat_json(const Stat& s) { return {{"mean", number(s.mean)}, {"std", number(s.std)}, {"n", s.n}}; }

}  // namespace

std::string brace_names(const std::vector<std::string>& names) {
  if (names.empty()) return "";
  if (names.size() == 1) return names.front();
  size_t prefix = names.front().size(), suffix = names.front().size();
  for (const auto& n : names) {
    prefix = std::min(prefix, n.size());
    while (prefix > 0 && n.compare(0, prefix, names.front(), 0, prefix) != 0) --prefix;
  }
  for (const auto& n : names) {
    suffix = std::min(suffix, n.size() - prefix);
    while (suffix > 0 &&
           n.compare(n.size() - suffix, suffix, names.front(), names.front().size() - suffix, suffix) != 0)
      --suffix;
  }
  suffix = std::min(suffix, names.front().size() - prefix);
  // Never split a number: {"s10", "s11"} reads "s{10,11}", not "s1{0,1}".
  const std::string& first = names.front();
  const auto digit = [](char ch) { return std::isdigit(static_cast<unsigned char>(ch)) != 0; };
  while (prefix > 0 && digit(first[prefix - 1])) --prefix;
  // A suffix starts at a separator ("_run"), not inside a word: {"alpha", "beta"} keeps its "a"s.
  const auto word = [](char ch) { return std::isalnum(static_cast<unsigned char>(ch)) != 0; };
  while (suffix > 0 && word(first[first.size() - suffix])) --suffix;
  std::vector<std::string> middles;
  for (const auto& n : names) middles.push_back(n.substr(prefix, n.size() - prefix - suffix));
  return fmt::format("{}{{{}}}{}", names.front().substr(0, prefix), fmt::join(middles, ","),
                     names.front().substr(names.front().size() - suffix));
}

std::string stat_text(const Stat& s) {
  if (s.n == 0) return "—";
  if (std::isnan(s.mean)) return "diverged";  // some run's last value is NaN
  if (s.n == 1 || std::isnan(s.std)) return number_or_dash(s.mean, "{:.4f}");
  return fmt::format("{} ± {:.4f}", number_or_dash(s.mean, "{:.4f}"), s.std);
}

Table compare_table(const Comparison& c) {
  Table t;
  // The losses keep their short names; any other metric is named in full with the way it improves.
  const bool loss = c.metric == "val_loss" || c.metric == "train_loss";
  const std::string m = c.metric == "val_loss" ? "val" : c.metric == "train_loss" ? "train" : c.metric;
  const std::string delta_header =
      loss ? "Δ vs exact" : fmt::format("Δ vs exact ({} better)", c.better == Better::lower ? "lower" : "higher");
  t.header = {"run",       "arithmetic", "seed",  "n",        "final " + m,
              "best " + m, delta_header, "steps", "tokens/s", "ms/step"};
  for (const auto& g : c.groups) {
    std::vector<std::string> names;
    for (size_t i : g.runs) names.push_back(c.runs[i].name);
    std::string delta = "—";
    if (g.exact && g.delta && *g.delta == 0)
      delta = "ref";
    else if (g.paired_delta.n >= 2 && std::isfinite(g.paired_delta.mean))
      delta = fmt::format("{:+.4f} ± {:.4f}", g.paired_delta.mean, g.paired_delta.std);  // same-seed pairs
    else if (g.delta)
      delta = number_or_dash(*g.delta, "{:+.4f}");
    t.rows.push_back({brace_names(names), g.name, seeds_text(g), fmt::format("{}", g.runs.size()),
                      stat_text(g.final_loss), stat_text(g.best_loss), delta, steps_text(g),
                      number_or_dash(g.tokens_per_s, "{:.0f}"), number_or_dash(g.ms_per_step, "{:.1f}")});
  }
  return t;
}

std::string format_terminal(const Table& t) {
  std::vector<size_t> width(t.header.size());
  for (size_t j = 0; j < t.header.size(); ++j) {
    width[j] = display_width(t.header[j]);
    for (const auto& row : t.rows) width[j] = std::max(width[j], display_width(row[j]));
  }
  // Text columns (run, arithmetic, seed) align left, numbers right.
  const auto line = [&](const std::vector<std::string>& cells) {
    std::string out;
    for (size_t j = 0; j < cells.size(); ++j) {
      const std::string pad(width[j] - display_width(cells[j]), ' ');
      out += (j == 0 ? "" : "  ") + (j < 3 ? cells[j] + pad : pad + cells[j]);
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out + "\n";
  };
  std::string out = line(t.header);
  size_t total = 0;
  for (size_t w : width) total += w + 2;
  out += std::string(total - 2, '-') + "\n";
  for (const auto& row : t.rows) out += line(row);
  return out;
}

std::string format_markdown(const Table& t) {
  // A '|' inside a cell would end it.
  const auto cell = [](std::string s) {
    for (size_t p = 0; (p = s.find('|', p)) != std::string::npos; p += 2) s.replace(p, 1, "\\|");
    return s;
  };
  std::string out = "|";
  for (const auto& h : t.header) out += fmt::format(" {} |", cell(h));
  out += "\n|";
  for (size_t j = 0; j < t.header.size(); ++j) out += j < 3 ? " --- |" : " ---: |";
  out += "\n";
  for (const auto& row : t.rows) {
    out += "|";
    for (const auto& v : row) out += fmt::format(" {} |", cell(v));
    out += "\n";
  }
  return out;
}

nlohmann::json compare_json(const Comparison& c) {
  nlohmann::json j;
  j["metric"] = c.metric;
  j["better"] = c.better == Better::lower ? "lower" : "higher";
  j["warnings"] = c.warnings;
  j["runs"] = nlohmann::json::array();
  for (size_t i = 0; i < c.runs.size(); ++i) {
    const RunMetrics& r = c.runs[i];
    const RunSummary& s = c.summaries[i];
    j["runs"].push_back({{"name", r.name},
                         {"dir", r.dir.string()},
                         {"arith_label", arith_label(r.config)},
                         {"seed", config_seed(r.config) ? nlohmann::json(*config_seed(r.config)) : nlohmann::json()},
                         {"final", s.final_loss ? number(*s.final_loss) : nlohmann::json()},
                         {"best", s.best_loss ? number(*s.best_loss) : nlohmann::json()},
                         {"last_step", s.last_step},
                         {"tokens_per_s_median", number(s.tokens_per_s)},
                         {"ms_per_step_median", number(s.ms_per_step)},
                         {"warnings", r.warnings},
                         {"config", r.config}});
  }
  j["groups"] = nlohmann::json::array();
  for (const auto& g : c.groups) {
    nlohmann::json runs = nlohmann::json::array();
    for (size_t i : g.runs) runs.push_back(c.runs[i].name);
    j["groups"].push_back({{"name", g.name},
                           {"arith_label", g.label},
                           {"family", g.family},
                           {"exact", g.exact},
                           {"runs", runs},
                           {"seeds", g.seeds},
                           {"final", stat_json(g.final_loss)},
                           {"best", stat_json(g.best_loss)},
                           {"delta_vs_exact", g.delta ? number(*g.delta) : nlohmann::json()},
                           {"delta_vs_exact_same_seed", stat_json(g.paired_delta)},
                           {"best_delta_vs_exact", g.best_delta ? number(*g.best_delta) : nlohmann::json()},
                           {"best_delta_vs_exact_same_seed", stat_json(g.paired_best_delta)},
                           {"steps", {{"min", g.min_steps}, {"max", g.max_steps}}},
                           {"tokens_per_s_median", number(g.tokens_per_s)},
                           {"ms_per_step_median", number(g.ms_per_step)}});
  }
  return j;
}

}  // namespace lmul::report
