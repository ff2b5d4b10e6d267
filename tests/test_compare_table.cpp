// The comparison table: cell formatting, terminal alignment, markdown and JSON.
#include <doctest/doctest.h>

#include <cmath>
#include <sstream>

#include "apps/report/compare_table.h"
#include "tests/compare_fixture.h"

using namespace lmul;
using lmul::test::TempDir;

namespace {

report::Comparison two_groups(const TempDir& tmp) {
  std::vector<report::RunMetrics> runs;
  runs.push_back(report::read_run(test::write_finished_run(tmp / "exact_s1", test::run_config("exact", 1), 1.90)));
  runs.push_back(report::read_run(test::write_finished_run(tmp / "exact_s2", test::run_config("exact", 2), 2.00)));
  runs.push_back(
      report::read_run(test::write_finished_run(tmp / "lmul_s1", test::run_config("mystery:m=4", 1), 2.05, 12345)));
  return report::compare_runs(std::move(runs), "val_loss");
}

}  // namespace

TEST_SUITE("compare") {
  TEST_CASE("seed runs are named by their common prefix and differing middles") {
    CHECK(report::brace_names({"lmul4_s1", "lmul4_s2", "lmul4_s3"}) == "lmul4_s{1,2,3}");
    CHECK(report::brace_names({"s10", "s11"}) == "s{10,11}");  // a number is never split
    CHECK(report::brace_names({"a_seed1_run", "a_seed2_run"}) == "a_seed{1,2}_run");
    CHECK(report::brace_names({"alpha", "beta"}) == "{alpha,beta}");
    CHECK(report::brace_names({"only"}) == "only");
    CHECK(report::brace_names({"run", "run_b"}) == "run{,_b}");
    CHECK(report::brace_names({"run1a", "run2a"}) == "run{1a,2a}");
  }

  TEST_CASE("a statistic reads mean ± std, or the single value, or a dash") {
    CHECK(report::stat_text(report::mean_std({1.0, 2.0})) == "1.5000 ± 0.7071");
    CHECK(report::stat_text(report::mean_std({1.23456})) == "1.2346");
    CHECK(report::stat_text(report::mean_std({})) == "—");
    CHECK(report::stat_text(report::mean_std({1.9, std::nan("")})) == "diverged");
  }

  TEST_CASE("the table has a row per group with n, mean ± std, Δ and medians") {
    TempDir tmp;
    const auto t = report::compare_table(two_groups(tmp));
    CHECK(t.header == std::vector<std::string>{"run", "arithmetic", "seed", "n", "final val", "best val", "Δ vs exact",
                                               "steps", "tokens/s", "ms/step"});
    REQUIRE(t.rows.size() == 2);
    CHECK(t.rows[0] == std::vector<std::string>{"exact_s{1,2}", "exact", "1,2", "2", "1.9500 ± 0.0707",
                                                "1.9500 ± 0.0707", "ref", "1000", "19000", "40.0"});
    CHECK(t.rows[1] == std::vector<std::string>{"lmul_s1", "linear=mystery:m=4", "1", "1", "2.0500", "2.0500",
                                                "+0.1000", "1000", "12345", "40.0"});
  }

  TEST_CASE("terminal columns line up by character, not byte, with numbers right-aligned") {
    report::Table t{{"run", "arithmetic", "seed", "final"},
                    {{"a", "exact", "1", "1.5000 ± 0.0100"}, {"bb", "x", "2", "2.0"}}};
    std::istringstream lines(report::format_terminal(t));
    std::string header, rule, row1, row2;
    std::getline(lines, header), std::getline(lines, rule), std::getline(lines, row1), std::getline(lines, row2);
    CHECK(header == "run  arithmetic  seed            final");
    CHECK(row1 == "a    exact       1     1.5000 ± 0.0100");
    CHECK(row2 == "bb   x           2                 2.0");
    CHECK(rule == std::string(header.size(), '-'));  // header has no "±": bytes = columns
  }

  TEST_CASE("markdown is a pipe table with numbers right-aligned and pipes escaped") {
    report::Table t{{"run", "arithmetic", "seed", "final"}, {{"a|b", "exact", "1", "1.5"}}};
    CHECK(report::format_markdown(t) ==
          "| run | arithmetic | seed | final |\n| --- | --- | --- | ---: |\n| a\\|b | exact | 1 | 1.5 |\n");
  }

  TEST_CASE("compare.json keeps every run and group with unrounded numbers") {
    TempDir tmp;
    const auto j = report::compare_json(two_groups(tmp));
    CHECK(j["metric"] == "val_loss");
    REQUIRE(j["runs"].size() == 3);
    CHECK(j["runs"][2]["name"] == "lmul_s1");
    CHECK(j["runs"][2]["final"].get<double>() == doctest::Approx(2.05));
    CHECK(j["runs"][0]["config"]["seed"] == 1);
    REQUIRE(j["groups"].size() == 2);
    CHECK(j["groups"][0]["runs"] == nlohmann::json{"exact_s1", "exact_s2"});
    CHECK(j["groups"][0]["final"]["n"] == 2);
    CHECK(j["groups"][1]["delta_vs_exact"].get<double>() == doctest::Approx(0.1));
    CHECK(j["groups"][1]["final"]["std"].is_null());  // one run: no std, and JSON has no NaN
  }
}
