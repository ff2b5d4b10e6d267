// Writing report.html.
#include "apps/report/html_report.h"

#include <cmath>

#include <fmt/format.h>

#include "apps/report/group_style.h"
#include "apps/report/svg_plot.h"

namespace lmul::report {

namespace {

constexpr const char* kStyle = R"(
body { font-family: 'DejaVu Sans', 'Helvetica Neue', Helvetica, Arial, sans-serif; color: #111;
       max-width: 1540px; margin: 24px auto; padding: 0 16px; line-height: 1.45; }
h1 { font-size: 22px; margin-bottom: 4px; }
h2 { font-size: 17px; margin-top: 28px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
.meta { color: #555; font-size: 13px; }
.warnings { background: #fff7e0; border: 1px solid #e6c86e; padding: 8px 14px; font-size: 13px; }
.warnings li { margin: 2px 0; }
figure { margin: 16px 0; }
figure svg { max-width: 100%; height: auto; }
table { border-collapse: collapse; font-size: 13px; margin: 8px 0; }
th, td { padding: 4px 10px; text-align: right; white-space: nowrap; }
th { border-bottom: 1.5px solid #333; border-top: 1.5px solid #333; font-weight: 600; }
tbody tr:last-child td { border-bottom: 1.5px solid #333; }
td.text, th.text { text-align: left; }
td.text { white-space: normal; overflow-wrap: anywhere; max-width: 380px; }
.scroll { overflow-x: auto; }
td.diff { text-align: left; white-space: normal; font-family: 'DejaVu Sans Mono', monospace; font-size: 12px; }
.swatch { vertical-align: middle; margin-right: 6px; }
figcaption { font-size: 13px; color: #555; }
td.text:nth-child(-n+2) { min-width: 9em; }
@media (max-width: 700px) { body { margin: 12px auto; padding: 0 8px; } td.text { max-width: 220px; } }
code, pre { font-family: 'DejaVu Sans Mono', monospace; font-size: 12px; }
pre { background: #f6f6f6; padding: 8px; overflow-x: auto; }
)";

// The run others are described against: the first exact-arithmetic run, else the first run.
size_t reference_run(const Comparison& c) {
  for (const auto& g : c.groups)
    if (g.exact) return g.runs.front();
  return 0;
}

// "key: ref → this" for every key whose value differs from the reference run's (bookkeeping
// keys such as out_dir left out).
std::string config_diff(const Comparison& c, size_t ref, size_t i) {
  if (i == ref) return "(reference)";
  std::string out;
  for (KeyRole role : {KeyRole::arith, KeyRole::setup, KeyRole::length, KeyRole::seed})
    for (const auto& k : differing_keys({c.configs[ref], c.configs[i]}, role))
      out += fmt::format("{}{}: {} → {}", out.empty() ? "" : "<br/>", xml_escape(k),
                         xml_escape(value_text(c.configs[ref], k)), xml_escape(value_text(c.configs[i], k)));
  return out.empty() ? "same config" : out;
}

std::string optional_number(const std::optional<double>& v) {
  if (!v) return "—";
  return std::isnan(*v) ? "diverged" : fmt::format("{:.4f}", *v);
}

}  // namespace

std::string html_report(const Comparison& c, const Table& table, const std::string& loss_svg,
                        const std::string& delta_svg) {
  const std::vector<GroupStyle> styles = group_styles(c);
  std::string h =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n<title>lmul compare</title>\n<style>";
  h += kStyle;
  h += "</style>\n</head>\n<body>\n<h1>lmul compare</h1>\n";
  h += fmt::format(
      "<p class=\"meta\">{} runs in {} groups; table metric: <code>{}</code> ({} is better); "
      "Δ is the final {} against the exact-arithmetic group of the same setup (mean ± std of the "
      "same-seed differences where every seed has an exact partner).</p>\n",
      c.runs.size(), c.groups.size(), c.metric, c.better == Better::lower ? "lower" : "higher", c.metric);
  if (!c.warnings.empty()) {
    h += "<div class=\"warnings\"><ul>\n";
    for (const auto& w : c.warnings) h += "<li>" + xml_escape(w) + "</li>\n";
    h += "</ul></div>\n";
  }
  if (!delta_svg.empty())
    h += "<figure class=\"delta\">\n" + delta_svg +
         "<figcaption>Δ vs exact per group, best first; colour = arithmetic family, the same style as in the "
         "table and the curves below.</figcaption>\n</figure>\n";

  h += "<h2>Comparison</h2>\n<div class=\"scroll\"><table>\n<thead><tr>";
  for (size_t j = 0; j < table.header.size(); ++j)
    h += fmt::format("<th{}>{}</th>", j < 3 ? " class=\"text\"" : "", xml_escape(table.header[j]));
  h += "</tr></thead>\n<tbody>\n";
  // Table rows are the groups in order; the arithmetic cell carries the group's swatch.
  for (size_t r = 0; r < table.rows.size(); ++r) {
    const auto& row = table.rows[r];
    h += "<tr>";
    for (size_t j = 0; j < row.size(); ++j)
      h += fmt::format("<td{}>{}{}</td>", j < 3 ? " class=\"text\"" : "",
                       j == 1 && r < styles.size() ? style_swatch_svg(styles[r]) : "", xml_escape(row[j]));
    h += "</tr>\n";
  }
  h += "</tbody>\n</table></div>\n";
  h += "<h2>Curves</h2>\n<figure>\n" + loss_svg + "</figure>\n";

  const size_t ref = reference_run(c);
  h += fmt::format("<h2>Runs</h2>\n<p class=\"meta\">Config differences are against <code>{}</code>.</p>\n",
                   xml_escape(c.runs[ref].name));
  h += "<div class=\"scroll\"><table>\n<thead><tr><th class=\"text\">run</th><th "
       "class=\"text\">arithmetic</th><th>seed</th>"
       "<th>steps</th><th>final</th><th>best</th><th>skipped lines</th><th class=\"text\">config vs "
       "reference</th></tr></thead>\n<tbody>\n";
  for (size_t g = 0; g < c.groups.size(); ++g)
    for (size_t i : c.groups[g].runs) {
      const auto seed = config_seed(c.runs[i].config);
      h += fmt::format(
          "<tr><td class=\"text\">{}{}<br/><code>{}</code></td>"
          "<td class=\"text\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td "
          "class=\"diff\">{}</td></tr>\n",
          style_swatch_svg(styles[g]), xml_escape(c.runs[i].name), xml_escape(c.runs[i].dir.string()),
          xml_escape(arith_label(c.runs[i].config)), seed ? fmt::format("{}", *seed) : "—", c.summaries[i].last_step,
          optional_number(c.summaries[i].final_loss), optional_number(c.summaries[i].best_loss),
          c.runs[i].warnings.size(), config_diff(c, ref, i));
    }
  h += "</tbody>\n</table></div>\n";
  h += fmt::format("<details><summary>Resolved config of <code>{}</code></summary>\n<pre>{}</pre>\n</details>\n",
                   xml_escape(c.runs[ref].name), xml_escape(c.runs[ref].config.dump(2)));
  h += "</body>\n</html>\n";
  return h;
}

}  // namespace lmul::report
