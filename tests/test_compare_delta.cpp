// The report at 16 formats: families from specs, one style per group (hue by family), the Δ
// summary figure (every group drawn once, sorted best first, error bars from the same-seed
// differences) and the same style and order in every figure; --metric on any logged key, with
// the direction that key improves in.
#include <doctest/doctest.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <set>
#include <tuple>

#include <fmt/format.h>

#include "apps/report/compare_table.h"
#include "apps/report/delta_figure.h"
#include "apps/report/html_report.h"
#include "apps/report/loss_figure.h"
#include "core/error.h"
#include "tests/compare_fixture.h"

using namespace lmul;
using lmul::test::TempDir;

namespace {

using test::count_of;
size_t count(const std::string& text, const std::string& what) { return count_of(text, what); }

report::Comparison formats_sweep(const TempDir& tmp, const std::string& metric = "val_loss") {
  std::vector<report::RunMetrics> runs;
  for (const auto& dir : test::write_formats_sweep(tmp.path())) runs.push_back(report::read_run(dir));
  return report::compare_runs(std::move(runs), metric);
}

// A run logging an accuracy on its eval steps, rising to final_acc (and peaking at peak_acc at
// step 500 when given).
std::filesystem::path write_acc_run(const std::filesystem::path& dir, const nlohmann::json& config, double final_acc,
                                    std::optional<double> peak_acc = std::nullopt) {
  std::vector<std::string> lines;
  for (long long s = 0; s <= 1000; s += 250) {
    double acc = final_acc * static_cast<double>(s) / 1000.0;
    if (s == 500 && peak_acc) acc = *peak_acc;
    lines.push_back(
        nlohmann::json{{"step", s}, {"train_loss", 2.0}, {"val_loss", 2.0}, {"val_acc", acc}, {"phase", "eval"}}
            .dump());
  }
  return test::write_run(dir, config, lines);
}

}  // namespace

TEST_SUITE("compare") {
  TEST_CASE("a spec's family comes from its format name; a multi-site arithmetic takes its first non-exact one") {
    CHECK(report::spec_family("lmul:m=4,variant=formula") == "L-Mul");
    CHECK(report::spec_family("fp8:e4m3,scale=delayed") == "fp8");
    CHECK(report::spec_family("pot:b=4") == "PoT");
    CHECK(report::spec_family("int:b=8,gran=channel") == "int");
    CHECK(report::spec_family("ternary") == "ternary");
    CHECK(report::spec_family("bf16") == "float");
    CHECK(report::spec_family("float:e=4,m=3") == "float");
    CHECK(report::spec_family("exact") == "exact");
    CHECK(report::spec_family("mystery:m=4") == "mystery");  // a format this version does not know
    CHECK(report::arith_family(test::run_config()) == "exact");
    CHECK(report::arith_family(test::run_config_sites({{"attention", "lmul:m=4"}})) == "L-Mul");
    CHECK(report::arith_family(test::run_config_sites({{"linear", "pot:b=4"}, {"embedding", "pot:b=4"}})) == "PoT");
    CHECK(report::arith_family(test::run_config_sites({{"attention", "fp8:e4m3"}, {"embedding", "pot:b=4"}})) == "fp8");
    CHECK(report::arith_family(test::run_config_sites({{"backward", "exact"}})) == "exact");
    CHECK(report::arith_family(test::run_config_sites({{"backward", "fp8:e5m2"}})) == "fp8");
    CHECK(report::arith_family(nlohmann::json::object()) == "unknown");
  }

  TEST_CASE(
      "16 formats: every group has its own style, families never share a hue, members differ by marker and dash") {
    TempDir tmp;
    const auto c = formats_sweep(tmp);
    REQUIRE(c.groups.size() == 16);
    const auto styles = report::group_styles(c);
    REQUIRE(styles.size() == 16);
    std::set<std::tuple<std::string, std::string, report::Marker>> seen;
    for (const auto& s : styles) seen.insert({s.color, s.dash, s.marker});
    CHECK(seen.size() == 16);
    // Families: exact, L-Mul (6), fp8 (3), PoT (4), ternary, int, in order of appearance.
    const auto families = report::family_colors(c);
    std::vector<std::string> names;
    std::set<std::string> colors;
    for (const auto& [family, color] : families) names.push_back(family), colors.insert(color);
    CHECK(names == std::vector<std::string>{"exact", "L-Mul", "fp8", "PoT", "ternary", "int"});
    CHECK(colors.size() == families.size());
    CHECK(c.groups[14].family == "L-Mul");  // all=lmul:m=4
    CHECK(c.groups[15].family == "PoT");    // pot on linear+head+embedding
    for (size_t a = 0; a < c.groups.size(); ++a)
      for (size_t b = a + 1; b < c.groups.size(); ++b) {
        if (c.groups[a].family == c.groups[b].family)
          CHECK((styles[a].marker != styles[b].marker || styles[a].dash != styles[b].dash));
        else
          CHECK(styles[a].color != styles[b].color);
      }
    // A family's first member has the family's own colour, solid, with a circle (the exact group: black).
    CHECK(styles[0].color == "#1A1A1A");
    CHECK(styles[1].color == "#0072B2");
    CHECK(styles[1].dash.empty());
    CHECK(styles[2].color != styles[1].color);  // lmul:m=4, a shade of the same blue
  }

  TEST_CASE("the Δ summary draws every group once, sorted best first, with the table's same-seed mean ± std") {
    TempDir tmp;
    const auto c = formats_sweep(tmp);
    const auto s = report::delta_summary(c);
    REQUIRE(s.rows.size() == c.groups.size());
    std::set<size_t> drawn;
    for (const auto& r : s.rows) drawn.insert(r.group);
    CHECK(drawn.size() == c.groups.size());
    for (size_t i = 1; i < s.rows.size(); ++i) CHECK(*s.rows[i - 1].final_value.mean <= *s.rows[i].final_value.mean);
    const auto styles = report::group_styles(c);
    for (const auto& r : s.rows) {
      const auto& g = c.groups[r.group];
      CHECK(r.style.color == styles[r.group].color);
      if (g.exact) {
        CHECK(r.reference);
        CHECK(*r.final_value.mean == 0);
        continue;
      }
      CHECK(r.final_value.n == 3);
      CHECK(*r.final_value.mean == doctest::Approx(g.paired_delta.mean));
      CHECK(r.final_value.err == doctest::Approx(g.paired_delta.std));
      CHECK(r.final_value.err > 0);
    }
    // Ternary's +0.13 is the worst, the all-sites L-Mul the best: last and first rows.
    CHECK(c.groups[s.rows.back().group].label == "linear=ternary");
    CHECK(c.groups[s.rows.front().group].label == "linear=lmul:m=4 attention=lmul:m=4 head=lmul:m=4");
    CHECK_FALSE(s.show_best);  // the fixture's losses only fall: best = final everywhere

    const std::string svg = report::render_delta_svg(s);
    CHECK(count(svg, "<g class=\"delta-row\">") == 16);
    CHECK(count(svg, "<line class=\"zero\"") == 1);
    CHECK(count(svg, "<g class=\"family\">") == 6);
    for (const auto& g : c.groups)
      CHECK_MESSAGE(svg.find(fmt::format(">{}</text>", report::xml_escape(g.name))) != std::string::npos, g.name);
    // Rows top to bottom in the sorted order.
    size_t last = 0;
    for (const auto& r : s.rows) {
      const size_t at = svg.find("<title>" + report::xml_escape(r.label) + ": ");
      REQUIRE(at != std::string::npos);
      CHECK(at > last);
      last = at;
    }
    CHECK(svg.find("ternary: +0.1") != std::string::npos);
    CHECK(svg.find("(← better)") != std::string::npos);
    CHECK(svg.find("nan") == std::string::npos);
  }

  TEST_CASE("legend order = table order, and a group has the same style in every figure and the table") {
    TempDir tmp;
    const auto c = formats_sweep(tmp);
    const auto table = report::compare_table(c);
    const auto fig = report::loss_figure(c, {});
    const auto styles = report::group_styles(c);
    REQUIRE(fig.legend.size() >= table.rows.size());
    for (size_t g = 0; g < table.rows.size(); ++g) {
      CHECK(fig.legend[g].label == table.rows[g][1] + " (n=3)");
      CHECK(fig.legend[g].color == styles[g].color);
      CHECK(fig.legend[g].dash == styles[g].dash);
      CHECK(fig.legend[g].shape == styles[g].marker);
    }
    // Each group's curves in every panel carry its style: seed curves are named after their run
    // ("g07.seed2", "g07.seed2 − g00.seed2"; the fixture's gNN is the group's index), means after the group.
    for (const auto& panel : fig.panels)
      for (const auto& series : panel.series) {
        size_t g = c.groups.size();
        if (series.name.size() > 3 && series.name[0] == 'g' && std::isdigit(static_cast<unsigned char>(series.name[1])))
          g = static_cast<size_t>(std::stoi(series.name.substr(1, 2)));
        for (size_t k = 0; k < c.groups.size(); ++k)
          if (series.name == c.groups[k].name || series.name.starts_with(c.groups[k].name + " (mean of")) g = k;
        REQUIRE_MESSAGE(g < c.groups.size(), series.name);
        CHECK_MESSAGE(series.color == styles[g].color, series.name);
        CHECK(series.dash == styles[g].dash);
      }
    const std::string html = report::html_report(c, table, report::render_svg(fig), report::delta_figure_svg(c));
    // The Δ summary comes first, then the table whose rows carry the groups' swatches.
    CHECK(html.find("<svg xmlns") < html.find("<h2>Comparison</h2>"));
    CHECK(html.find("delta-row") < html.find("<h2>Comparison</h2>"));
    const size_t table_at = html.find("<h2>Comparison</h2>");
    for (size_t g = 0; g < styles.size(); ++g)
      CHECK(html.find(report::style_swatch_svg(styles[g]), table_at) != std::string::npos);
  }

  TEST_CASE("without an exact group there is no Δ to summarise") {
    TempDir tmp;
    std::vector<report::RunMetrics> runs;
    runs.push_back(report::read_run(test::write_finished_run(tmp / "a", test::run_config("lmul:m=4", 1), 2.0)));
    runs.push_back(report::read_run(test::write_finished_run(tmp / "b", test::run_config("pot:b=5", 1), 2.1)));
    const auto c = report::compare_runs(std::move(runs), "val_loss");
    CHECK_FALSE(report::has_delta(c));
    const auto s = report::delta_summary(c);
    CHECK(report::delta_text(s.rows[0].final_value, s.rows[0].reference) == "—");
  }

  TEST_CASE("--metric takes any numeric key of the step lines; accuracy-like keys improve upward") {
    TempDir tmp;
    std::vector<report::RunMetrics> runs;
    for (int seed = 1; seed <= 2; ++seed) {
      runs.push_back(report::read_run(
          write_acc_run(tmp / fmt::format("exact{}", seed), test::run_config("exact", seed), 0.90 + 0.01 * seed)));
      runs.push_back(report::read_run(write_acc_run(tmp / fmt::format("lmul{}", seed),
                                                    test::run_config("lmul:m=4", seed), 0.95 + 0.01 * seed, 0.99)));
      runs.push_back(report::read_run(
          write_acc_run(tmp / fmt::format("tern{}", seed), test::run_config("ternary", seed), 0.50 + 0.02 * seed)));
    }
    CHECK(report::metric_direction("val_acc") == report::Better::higher);
    CHECK(report::metric_direction("whole_accuracy") == report::Better::higher);
    CHECK(report::metric_direction("val_loss") == report::Better::lower);
    CHECK(runs[0].records.back().other.at("val_acc") == doctest::Approx(0.91));
    CHECK(runs[0].records.back().other.count("phase") == 0);  // not a number: not a metric

    const auto c = report::compare_runs(runs, "val_acc");
    CHECK(c.better == report::Better::higher);
    REQUIRE(c.groups.size() == 3);
    CHECK(c.groups[1].best_loss.mean == doctest::Approx(0.99));  // the peak, not the final value
    CHECK(c.groups[1].final_loss.mean == doctest::Approx(0.965));
    CHECK(c.groups[1].paired_delta.mean == doctest::Approx(0.05));
    CHECK(c.groups[1].paired_best_delta.mean == doctest::Approx(0.99 - 0.915));
    const auto s = report::delta_summary(c);
    CHECK(s.show_best);                                           // the peak makes best ≠ final
    CHECK(c.groups[s.rows[0].group].label == "linear=lmul:m=4");  // highest Δ first
    CHECK(c.groups[s.rows[2].group].label == "linear=ternary");
    const std::string svg = report::render_delta_svg(s);
    CHECK(svg.find("(better →)") != std::string::npos);
    CHECK(svg.find(">Best val_acc</text>") != std::string::npos);
    CHECK(report::compare_table(c).header[6] == "Δ vs exact (higher better)");
    CHECK(report::compare_table(c).header[4] == "final val_acc");
    // The loss figure adds a panel of the metric, and its Δ panel shows the metric's differences.
    const auto fig = report::loss_figure(c, {});
    REQUIRE(fig.panels.size() == 4);
    CHECK(fig.panels[2].title == "val_acc");
    CHECK(fig.panels[3].title == "val_acc − exact (same seed)");

    // The direction can be overridden: as a lower-is-better key, ternary's drop sorts first.
    const auto low = report::compare_runs(runs, "val_acc", report::Better::lower);
    CHECK(low.groups[1].best_loss.mean == doctest::Approx(0.0));  // the step-0 value
    CHECK(low.groups[report::delta_summary(low).rows[0].group].label == "linear=ternary");

    CHECK_THROWS_WITH_AS(
        report::compare_runs(runs, "val_accuracy"),
        "compare: --metric 'val_accuracy': no run logs it; the runs' step lines carry train_loss, val_acc, val_loss",
        Error);
  }
}
