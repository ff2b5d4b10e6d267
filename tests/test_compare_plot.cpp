// Loss-curve rendering: nice-number axes, a well-formed SVG with a line per run and a legend
// entry per arithmetic, and a self-contained HTML report.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>

#include "apps/report/axis_ticks.h"
#include "apps/report/compare_table.h"
#include "apps/report/html_report.h"
#include "apps/report/loss_figure.h"
#include "tests/compare_fixture.h"

using namespace lmul;
using lmul::test::TempDir;

namespace {

using test::count_of;
size_t count(const std::string& text, const std::string& what) { return count_of(text, what); }

// Checks that every element is closed in order and no '<' or '&' stands bare in text; returns
// an empty string or the first problem.
std::string xml_problem(const std::string& xml) {
  std::vector<std::string> open;
  for (size_t p = 0; p < xml.size(); ++p) {
    if (xml[p] == '&') {
      const size_t semi = xml.find(';', p);
      if (semi == std::string::npos || semi - p > 8) return fmt::format("bare '&' at {}", p);
      continue;
    }
    if (xml[p] != '<') continue;
    const size_t end = xml.find('>', p);
    if (end == std::string::npos) return fmt::format("unterminated tag at {}", p);
    const std::string tag = xml.substr(p + 1, end - p - 1);
    if (tag.starts_with("!") || tag.starts_with("?")) {
      p = end;
      continue;
    }
    const size_t name_end = tag.find_first_of(" \t\n/", tag[0] == '/' ? 1 : 0);
    const std::string name = tag.substr(
        tag[0] == '/' ? 1 : 0, name_end == std::string::npos ? std::string::npos : name_end - (tag[0] == '/' ? 1 : 0));
    if (name.empty() || !std::isalpha(static_cast<unsigned char>(name[0]))) return fmt::format("bad tag '<{}>'", tag);
    if (tag[0] == '/') {
      if (open.empty() || open.back() != name)
        return fmt::format("'</{}>' closes '{}'", name, open.empty() ? "nothing" : open.back());
      open.pop_back();
    } else if (!tag.ends_with("/")) {
      open.push_back(name);
    }
    p = end;
  }
  return open.empty() ? "" : "unclosed <" + open.back() + ">";
}

report::Comparison three_arithmetics(const TempDir& tmp) {
  std::vector<report::RunMetrics> runs;
  for (int s = 1; s <= 2; ++s)
    runs.push_back(report::read_run(
        test::write_finished_run(tmp / fmt::format("exact_s{}", s), test::run_config("exact", s), 1.9)));
  for (int s = 1; s <= 3; ++s)
    runs.push_back(report::read_run(
        test::write_finished_run(tmp / fmt::format("lmul_s{}", s), test::run_config("mystery:m=4", s), 2.0)));
  runs.push_back(report::read_run(test::write_finished_run(tmp / "fp8", test::run_config("other:e4m3 <&>", 1), 2.1)));
  return report::compare_runs(std::move(runs), "val_loss");
}

}  // namespace

TEST_SUITE("compare") {
  TEST_CASE("nice numbers are 1, 2, 5 or 10 times a power of ten") {
    CHECK(report::nice_number(3.4, false) == 5);
    CHECK(report::nice_number(3.4, true) == 5);
    CHECK(report::nice_number(0.17, true) == doctest::Approx(0.2));
    CHECK(report::nice_number(1400, false) == 2000);
    CHECK(report::nice_number(1.2, true) == 1);
    CHECK(report::nice_number(8, true) == 10);
  }

  TEST_CASE("a linear axis ends on ticks that step by a nice number") {
    const auto a = report::linear_axis(1.47, 4.21, 9);
    CHECK(a.lo == doctest::Approx(1.0));
    CHECK(a.hi == doctest::Approx(4.5));
    REQUIRE(a.ticks.size() == 8);
    CHECK(a.ticks[1] - a.ticks[0] == doctest::Approx(0.5));
    CHECK(a.decimals == 1);
    CHECK(report::tick_label(a, a.ticks[1]) == "1.5");
    const auto steps = report::linear_axis(0, 5000, 7);
    CHECK(steps.ticks == std::vector<double>{0, 1000, 2000, 3000, 4000, 5000});
    CHECK(report::tick_label(steps, 2000) == "2000");
    CHECK(report::tick_label(report::linear_axis(0, 60000, 7), 20000) == "20k");
    const auto flat = report::linear_axis(2, 2);  // one value: widened, not a zero-width axis
    CHECK(flat.lo < 2);
    CHECK(flat.hi > 2);
  }

  TEST_CASE("a log axis uses 1-2-5 decade ticks over decades and nice ticks within one") {
    const auto wide = report::log_axis(0.3, 40);
    CHECK(wide.log);
    CHECK(wide.lo == doctest::Approx(0.1));
    CHECK(wide.hi == doctest::Approx(100));
    CHECK(std::count(wide.ticks.begin(), wide.ticks.end(), 1.0) == 1);
    CHECK(report::axis_fraction(wide, 1.0) == doctest::Approx(1.0 / 3));
    const auto narrow = report::log_axis(1.45, 4.2);
    CHECK(narrow.lo <= 1.45);
    CHECK(narrow.hi >= 4.2);
    REQUIRE(narrow.ticks.size() >= 3);
    for (double t : narrow.ticks) CHECK((t >= narrow.lo && t <= narrow.hi));
    CHECK(report::axis_fraction(narrow, std::sqrt(narrow.lo * narrow.hi)) == doctest::Approx(0.5));
  }

  TEST_CASE(
      "the loss svg is well formed with a line per run, a mean per seed group and a legend entry per arithmetic") {
    TempDir tmp;
    const auto c = three_arithmetics(tmp);
    const auto fig = report::loss_figure(c, {});
    REQUIRE(fig.panels.size() == 3);
    CHECK(fig.panels[0].title == "Training loss");
    CHECK(fig.panels[1].title == "Validation loss");
    CHECK(fig.panels[2].title == "Val loss − exact (same seed)");
    // 6 runs + a mean for each of the two seed groups, in each panel.
    CHECK(fig.panels[0].series.size() == 8);
    CHECK(fig.panels[1].series.size() == 8);
    // Δ: exact's zero line; lmul seeds 1, 2 (seed 3 has no exact partner) and their mean; fp8 seed 1.
    CHECK(fig.panels[2].series.size() == 5);
    const std::string svg = report::render_svg(fig);
    CHECK(xml_problem(svg) == "");
    CHECK(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    CHECK(count(svg, "<polyline class=\"series\"") == 21);
    CHECK(count(svg, "<g class=\"legend-entry\">") == 5);  // 3 arithmetics + "one seed" + "mean over seeds"
    CHECK(svg.find(">exact (n=2)</text>") != std::string::npos);
    CHECK(svg.find(">linear=mystery:m=4 (n=3)</text>") != std::string::npos);
    CHECK(svg.find("linear=other:e4m3 &lt;&amp;&gt;") != std::string::npos);
    CHECK(svg.find(">Validation loss</text>") != std::string::npos);
    CHECK(svg.find(">step</text>") != std::string::npos);
  }

  TEST_CASE("the Δ panel plots each run's val loss minus its same-seed exact run's, and their mean") {
    TempDir tmp;
    const auto c = three_arithmetics(tmp);
    const auto fig = report::loss_figure(c, {});
    REQUIRE(fig.panels.size() == 3);
    const auto& d = fig.panels[2];
    CHECK(d.linear_y);
    CHECK(d.series[0].color == "#1A1A1A");  // exact: zero
    for (double y : d.series[0].y) CHECK(y == 0);
    // lmul finishes at 2.0 against exact's 1.9 along parallel curves: Δ = 0.1 at every evaluation.
    REQUIRE(d.series[3].x == std::vector<double>{0, 250, 500, 750, 1000});
    for (double y : d.series[3].y) CHECK(y == doctest::Approx(0.1));
    CHECK(d.series[3].name.find("mean of 2 same-seed differences") != std::string::npos);
    CHECK(d.series[1].name == "lmul_s1 − exact_s1");
    for (double y : d.series[4].y) CHECK(y == doctest::Approx(0.2));  // fp8 (2.1), seed 1 only
    // With no exact run there is nothing to subtract: two panels.
    std::vector<report::RunMetrics> runs;
    runs.push_back(report::read_run(test::write_finished_run(tmp / "x1", test::run_config("mystery:m=4", 1), 2.0)));
    CHECK(report::loss_figure(report::compare_runs(std::move(runs), "val_loss"), {}).panels.size() == 2);
  }

  TEST_CASE("seeds of one arithmetic share a colour; exact is black") {
    TempDir tmp;
    const auto c = three_arithmetics(tmp);
    const auto fig = report::loss_figure(c, {});
    const auto& val = fig.panels[1].series;
    CHECK(val[0].color == val[1].color);  // exact_s1, exact_s2
    const auto styles = report::group_styles(c);
    CHECK(val[0].color == styles[0].color);
    CHECK(styles[0].color == "#1A1A1A");
    CHECK(styles[1].color != styles[2].color);  // mystery and other: two families
    CHECK(val[0].width < val[2].width);         // seed thinner than the mean
    CHECK(val[2].markers);                      // val points marked
    CHECK_FALSE(fig.panels[0].series[2].markers);
  }

  TEST_CASE("a NaN breaks a curve into two lines and --log-y labels the axis") {
    report::Figure f;
    f.log_y = true;
    f.panels.push_back({"Validation loss", "step", "loss (log scale)", {}});
    report::Series s;
    s.x = {0, 1, 2, 3, 4};
    s.y = {4.0, 3.0, std::nan(""), 2.0, 1.5};
    f.panels[0].series.push_back(s);
    const std::string svg = report::render_svg(f);
    CHECK(xml_problem(svg) == "");
    CHECK(count(svg, "<polyline") == 2);
    CHECK(svg.find("loss (log scale)") != std::string::npos);
    CHECK(svg.find("nan") == std::string::npos);
  }

  TEST_CASE("a diverging run's spike leaves the frame instead of stretching the loss axis") {
    TempDir tmp;
    std::vector<report::RunMetrics> runs;
    runs.push_back(report::read_run(test::write_finished_run(tmp / "ok", test::run_config(), 1.9)));
    runs.push_back(report::read_run(test::write_run(tmp / "bad", test::run_config("mystery:m=1"),
                                                    {test::step_line(0, 3.9, 3.9), test::step_line(250, 40.0, 45.0)})));
    const auto fig = report::loss_figure(report::compare_runs(std::move(runs), "val_loss"), {});
    CHECK(fig.panels[1].y_cap == doctest::Approx(3.9 * 1.05));  // highest starting val loss, +5 %
    const std::string svg = report::render_svg(fig);
    CHECK(svg.find(">4.0</text>") != std::string::npos);
    CHECK(svg.find(">45") == std::string::npos);           // no tick up at the spike
    CHECK(count(svg, "<polyline class=\"series\"") == 6);  // but its line is drawn (and clipped), its Δ too
  }

  TEST_CASE("twelve formats of one family keep its hue and differ by marker and dash") {
    TempDir tmp;
    std::vector<report::RunMetrics> runs;
    for (int i = 0; i < 12; ++i)
      runs.push_back(report::read_run(test::write_finished_run(tmp / fmt::format("r{}", i),
                                                               test::run_config(fmt::format("mystery:m={}", i)), 2.0)));
    const auto c = report::compare_runs(std::move(runs), "val_loss");
    const auto styles = report::group_styles(c);
    CHECK(styles[0].dash == "");
    CHECK(styles[6].color == styles[0].color);  // the shades cycle with the markers
    for (size_t a = 0; a < styles.size(); ++a)
      for (size_t b = a + 1; b < styles.size(); ++b)
        CHECK((styles[a].marker != styles[b].marker || styles[a].dash != styles[b].dash));
  }

  TEST_CASE("a comparison where no run has evaluated yet plots the training panel alone") {
    TempDir tmp;
    std::vector<report::RunMetrics> runs;
    runs.push_back(report::read_run(
        test::write_run(tmp / "early", test::run_config(), {test::step_line(0, 4.2), test::step_line(10, 4.0)})));
    const auto fig = report::loss_figure(report::compare_runs(std::move(runs), "val_loss"), {});
    REQUIRE(fig.panels.size() == 1);
    CHECK(fig.panels[0].title == "Training loss");
  }

  TEST_CASE("report.html is self-contained: inline svg and css, no scripts, nothing fetched") {
    TempDir tmp;
    const auto c = three_arithmetics(tmp);
    const std::string svg = report::loss_figure_svg(c, {});
    const std::string html = report::html_report(c, report::compare_table(c), svg);
    CHECK(xml_problem(html.substr(html.find("<html"))) == "");
    CHECK(html.find(svg) != std::string::npos);
    CHECK(html.find("<style>") != std::string::npos);
    CHECK(html.find("<script") == std::string::npos);
    CHECK(html.find("<link") == std::string::npos);
    CHECK(html.find("@import") == std::string::npos);
    CHECK(html.find("url(http") == std::string::npos);
    CHECK(html.find("src=") == std::string::npos);
    CHECK(html.find("href=") == std::string::npos);
    CHECK(html.find("<td>+0.1000</td>") != std::string::npos);  // the table, Δ of lmul vs exact
    CHECK(html.find("arith.linear: exact → mystery:m=4<br/>seed: 1 → 2") != std::string::npos);  // config diff
  }
}
