// Grouping runs by seed, their statistics, Δ against exact, and which configs are comparable.
#include <doctest/doctest.h>

#include <cmath>

#include "apps/report/compare_table.h"
#include "apps/report/run_groups.h"
#include "core/error.h"
#include "tests/compare_fixture.h"

using namespace lmul;
using lmul::test::TempDir;

namespace {

std::vector<report::RunMetrics> read_all(const std::vector<std::filesystem::path>& dirs) {
  std::vector<report::RunMetrics> runs;
  for (const auto& d : dirs) runs.push_back(report::read_run(d));
  return runs;
}

bool any_contains(const std::vector<std::string>& lines, const std::string& text) {
  for (const auto& l : lines)
    if (l.find(text) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST_SUITE("compare") {
  TEST_CASE("the arithmetic label names the non-exact sites, or says exact") {
    auto cfg = test::run_config("exact");
    CHECK(report::arith_label(cfg) == "exact");
    CHECK(report::is_exact_arith(cfg));
    cfg["arith"]["backward"] = "exact";
    CHECK(report::arith_label(cfg) == "exact");
    CHECK(report::is_exact_arith(cfg));

    cfg = test::run_config("mystery:x=1");
    CHECK(report::arith_label(cfg) == "linear=mystery:x=1");
    CHECK_FALSE(report::is_exact_arith(cfg));
    cfg["arith"]["attention"] = "other:y=2";
    cfg["arith"]["backward"] = "exact";
    CHECK(report::arith_label(cfg) == "linear=mystery:x=1 attention=other:y=2 backward=exact");

    // Exact forward with a quantised backward is not exact.
    cfg = test::run_config("exact");
    cfg["arith"]["backward"] = "mystery:x=1";
    CHECK(report::arith_label(cfg) == "backward=mystery:x=1");
    CHECK_FALSE(report::is_exact_arith(cfg));
    CHECK(report::arith_label(nlohmann::json::object()) == "(arith unknown)");
  }

  TEST_CASE("a MatMul-free run's label names its architecture, and it is never the exact reference") {
    auto cfg = test::run_config("exact");
    cfg["model"] = "gpt";
    CHECK(report::arith_label(cfg) == "exact");
    CHECK(report::is_exact_arith(cfg));
    cfg["model"] = "matmulfree";
    CHECK(report::arith_label(cfg) == "matmulfree: exact");
    CHECK_FALSE(report::is_exact_arith(cfg));
    cfg["arith"]["linear"] = "mystery:x=1";
    CHECK(report::arith_label(cfg) == "matmulfree: linear=mystery:x=1");
  }

  TEST_CASE("an L-Mul label starts with its mantissa width whether or not defaults are dropped") {
    // Before the lmul format is registered the spec is shown as written; after, defaults go.
    const auto label = report::arith_label(test::run_config("lmul:m=4,variant=bits,round=rne"));
    CHECK(label.starts_with("linear=lmul:m=4"));
    CHECK(report::short_spec("exact") == "exact");
    CHECK(report::short_spec("mystery:a=1,b=2") == "mystery:a=1,b=2");
  }

  TEST_CASE("config keys are sorted into seed, arith, bookkeeping, length and setup") {
    CHECK(report::key_role("seed") == report::KeyRole::seed);
    CHECK(report::key_role("arith.linear") == report::KeyRole::arith);
    CHECK(report::key_role("out_dir") == report::KeyRole::bookkeeping);
    CHECK(report::key_role("eval_interval") == report::KeyRole::bookkeeping);
    CHECK(report::key_role("max_iters") == report::KeyRole::length);
    CHECK(report::key_role("n_embd") == report::KeyRole::setup);
    CHECK(report::key_role("learning_rate") == report::KeyRole::setup);
    CHECK(report::key_role("some_new_key") == report::KeyRole::setup);
  }

  TEST_CASE("mean and sample standard deviation; median") {
    const auto s = report::mean_std({1.0, 2.0, 3.0, 4.0});
    CHECK(s.n == 4);
    CHECK(s.mean == doctest::Approx(2.5));
    CHECK(s.std == doctest::Approx(std::sqrt(5.0 / 3.0)));  // n − 1 in the denominator
    CHECK(std::isnan(report::mean_std({2.0}).std));
    CHECK(report::mean_std({}).n == 0);
    CHECK(report::median({5, 1, 3}) == 3);
    CHECK(report::median({4, 1, 3, 2}) == 2.5);
    CHECK(std::isnan(report::median({})));
  }

  TEST_CASE("runs that differ only by seed and out_dir are one group with mean ± std") {
    TempDir tmp;
    std::vector<std::filesystem::path> dirs;
    const double finals[] = {1.90, 1.92, 1.97};
    for (int s = 0; s < 3; ++s) {
      auto cfg = test::run_config("exact", s + 1);
      cfg["out_dir"] = fmt::format("out{}", s);
      dirs.push_back(test::write_finished_run(tmp / fmt::format("exact_s{}", s + 1), cfg, finals[s]));
    }
    dirs.push_back(test::write_finished_run(tmp / "lmul4", test::run_config("lmul:m=4", 1), 2.0));
    const auto c = report::compare_runs(read_all(dirs), "val_loss");
    REQUIRE(c.groups.size() == 2);
    const auto& g = c.groups[0];
    CHECK(g.runs == std::vector<size_t>{0, 1, 2});
    CHECK(g.seeds == std::vector<long long>{1, 2, 3});
    CHECK(g.exact);
    CHECK(g.final_loss.n == 3);
    CHECK(g.final_loss.mean == doctest::Approx(1.93));
    CHECK(g.final_loss.std == doctest::Approx(report::mean_std({1.90, 1.92, 1.97}).std));
    CHECK(g.best_loss.mean == doctest::Approx(1.93));  // loss falls monotonically: best = final
    CHECK(g.max_steps == 1000);
    CHECK(c.groups[1].label == "linear=lmul:m=4");
    CHECK(c.warnings.empty());
  }

  TEST_CASE("Δ vs exact is the difference of group means, and absent without an exact run") {
    TempDir tmp;
    const auto dirs = std::vector{test::write_finished_run(tmp / "e1", test::run_config("exact", 1), 1.9),
                                  test::write_finished_run(tmp / "e2", test::run_config("exact", 2), 2.0),
                                  test::write_finished_run(tmp / "l1", test::run_config("lmul:m=3", 1), 2.10),
                                  test::write_finished_run(tmp / "l2", test::run_config("lmul:m=3", 2), 2.20)};
    const auto c = report::compare_runs(read_all(dirs), "val_loss");
    REQUIRE(c.groups.size() == 2);
    CHECK(*c.groups[0].delta == doctest::Approx(0.0));
    CHECK(*c.groups[1].delta == doctest::Approx(2.15 - 1.95));
    const auto no_exact = report::compare_runs(read_all({dirs[2], dirs[3]}), "val_loss");
    CHECK_FALSE(no_exact.groups[0].delta.has_value());
  }

  TEST_CASE("Δ vs exact also pairs runs by seed: mean ± std of the same-seed differences") {
    TempDir tmp;
    std::vector<std::filesystem::path> dirs;
    const double exact[] = {1.90, 2.00, 2.10}, lmul[] = {1.91, 2.02, 2.13};  // differences 0.01, 0.02, 0.03
    for (int s = 0; s < 3; ++s)
      dirs.push_back(
          test::write_finished_run(tmp / fmt::format("e{}", s + 1), test::run_config("exact", s + 1), exact[s]));
    for (int s = 0; s < 3; ++s)
      dirs.push_back(
          test::write_finished_run(tmp / fmt::format("l{}", s + 1), test::run_config("lmul:m=3", s + 1), lmul[s]));
    auto c = report::compare_runs(read_all(dirs), "val_loss");
    REQUIRE(c.groups.size() == 2);
    const auto& g = c.groups[1];
    CHECK(g.paired_delta.n == 3);
    CHECK(g.paired_delta.mean == doctest::Approx(0.02));
    CHECK(g.paired_delta.std == doctest::Approx(0.01));
    CHECK(*g.delta == doctest::Approx(0.02));
    // The seeds' spread (0.1) is not in the paired std: that is its point.
    CHECK(g.final_loss.std == doctest::Approx(0.11));
    const auto t = report::compare_table(c);
    CHECK(t.rows[1][6] == "+0.0200 ± 0.0100");
    CHECK(t.rows[0][6] == "ref");
    // A seed without an exact partner: no pairing, the difference of the means.
    c = report::compare_runs(read_all({dirs[0], dirs[1], dirs[3], dirs[4], dirs[5]}), "val_loss");
    CHECK(c.groups[1].paired_delta.n == 0);
    CHECK(*c.groups[1].delta == doctest::Approx((1.91 + 2.02 + 2.13) / 3 - 1.95));
    CHECK(report::compare_table(c).rows[1][6] == fmt::format("{:+.4f}", (1.91 + 2.02 + 2.13) / 3 - 1.95));
  }

  TEST_CASE("the train_loss metric takes final and best from the logged train loss") {
    TempDir tmp;
    test::write_run(tmp / "r", test::run_config(),
                    {test::step_line(0, 4.0, 4.1), test::step_line(10, 2.5), test::step_line(20, 2.7, 2.9)});
    const auto c = report::compare_runs(read_all({tmp / "r"}), "train_loss");
    CHECK(*c.summaries[0].final_loss == doctest::Approx(2.7));
    CHECK(*c.summaries[0].best_loss == doctest::Approx(2.5));
    CHECK_THROWS_AS(report::compare_runs(read_all({tmp / "r"}), "loss"), Error);
  }

  TEST_CASE("the train_loss metric prefers the eval steps' eval_train_loss when logged") {
    TempDir tmp;
    test::write_run(
        tmp / "r", test::run_config(),
        {R"({"step": 0, "train_loss": 4.0, "val_loss": 4.1, "eval_train_loss": 4.05})", test::step_line(10, 2.5),
         R"({"step": 20, "train_loss": 2.7, "val_loss": 2.9, "eval_train_loss": 2.8})"});
    const auto c = report::compare_runs(read_all({tmp / "r"}), "train_loss");
    CHECK(*c.summaries[0].final_loss == doctest::Approx(2.8));
    CHECK(*c.summaries[0].best_loss == doctest::Approx(2.8));
  }

  TEST_CASE("runs with the same directory name under different parents are told apart") {
    TempDir tmp;
    const auto c = report::compare_runs(
        read_all({test::write_finished_run(tmp.path() / "a" / "seed1", test::run_config("exact", 1), 1.9),
                  test::write_finished_run(tmp.path() / "b" / "seed1", test::run_config("mystery:m=1", 1), 2.0),
                  test::write_finished_run(tmp.path() / "c" / "other", test::run_config("exact", 2), 2.0)}),
        "val_loss");
    CHECK(c.runs[0].name == "a/seed1");
    CHECK(c.runs[1].name == "b/seed1");
    CHECK(c.runs[2].name == "other");
  }

  TEST_CASE("a growing run with no val_loss yet is compared with a warning and no final loss") {
    TempDir tmp;
    const auto done = test::write_finished_run(tmp / "exact", test::run_config("exact"), 1.9);
    const auto early = test::write_run(tmp / "lmul_early", test::run_config("lmul:m=4"),
                                       {test::step_line(0, 4.2), test::step_line(10, 4.0)});
    const auto c = report::compare_runs(read_all({done, early}), "val_loss");
    REQUIRE(c.groups.size() == 2);
    CHECK_FALSE(c.summaries[1].final_loss.has_value());
    CHECK(c.groups[1].final_loss.n == 0);
    CHECK_FALSE(c.groups[1].delta.has_value());
    CHECK(c.groups[1].max_steps == 10);
    CHECK(any_contains(c.warnings, "run lmul_early has no val_loss yet"));
  }

  TEST_CASE("a group whose seeds stand at different steps is compared with a warning") {
    TempDir tmp;
    const auto s1 = test::write_finished_run(tmp / "lmul_s1", test::run_config("lmul:m=4", 1), 1.9);
    const auto s2 = test::write_run(tmp / "lmul_s2", test::run_config("lmul:m=4", 2),
                                    {test::step_line(0, 4.2, 4.2), test::step_line(250, 2.5, 2.6)});
    const auto c = report::compare_runs(read_all({s1, s2}), "val_loss");
    REQUIRE(c.groups.size() == 1);
    CHECK(c.groups[0].min_steps == 250);
    CHECK(any_contains(c.warnings, "group linear=lmul:m=4: its runs stand at steps 250 to 1000"));
    const auto same = report::compare_runs(read_all({s1}), "val_loss");
    CHECK(same.warnings.empty());
  }

  TEST_CASE("a diverged seed makes the group mean NaN but its best is the best before divergence") {
    TempDir tmp;
    test::write_run(
        tmp / "r", test::run_config("lmul:m=2"),
        {R"({"step": 0, "train_loss": 4.2, "val_loss": 4.3})", R"({"step": 250, "train_loss": 3.0, "val_loss": 3.1})",
         R"({"step": 500, "train_loss": NaN, "val_loss": NaN})"});
    const auto c = report::compare_runs(read_all({tmp / "r"}), "val_loss");
    CHECK(std::isnan(*c.summaries[0].final_loss));
    CHECK(*c.summaries[0].best_loss == doctest::Approx(3.1));
  }

  TEST_CASE("runs of different setups are compared with a warning naming the keys and runs") {
    TempDir tmp;
    auto wide = test::run_config("exact", 1);
    wide["n_embd"] = 256;
    auto other_data = test::run_config("lmul:m=4", 1);
    other_data["dataset"] = "openwebtext";
    const auto c =
        report::compare_runs(read_all({test::write_finished_run(tmp / "a", test::run_config("exact", 1), 1.9),
                                       test::write_finished_run(tmp / "b", wide, 1.8),
                                       test::write_finished_run(tmp / "c", other_data, 3.0)}),
                             "val_loss");
    CHECK(c.groups.size() == 3);
    REQUIRE(c.warnings.size() == 2);
    CHECK(any_contains(c.warnings, "dataset: shakespeare_char (a, b) vs openwebtext (c)"));
    CHECK(any_contains(c.warnings, "n_embd: 128 (a, c) vs 256 (b)"));
    // Two exact groups share a label: their names tell them apart by the differing key.
    CHECK(c.groups[0].name == "exact (n_embd=128)");
    CHECK(c.groups[1].name == "exact (n_embd=256)");
    // Each exact group is its own reference.
    CHECK(*c.groups[1].delta == doctest::Approx(0.0));
  }

  TEST_CASE("runs of different lengths are separate groups but not a setup warning") {
    TempDir tmp;
    auto longer = test::run_config("exact", 2);
    longer["max_iters"] = 5000;
    const auto c =
        report::compare_runs(read_all({test::write_finished_run(tmp / "a", test::run_config("exact", 1), 1.9),
                                       test::write_finished_run(tmp / "b", longer, 1.7)}),
                             "val_loss");
    CHECK(c.groups.size() == 2);
    CHECK(c.warnings.empty());
    CHECK(c.groups[1].name == "exact (max_iters=5000)");
  }

  TEST_CASE("throughput is the median over the group's logged steps") {
    TempDir tmp;
    const auto c = report::compare_runs(read_all({test::write_run(tmp / "a", test::run_config("exact", 1),
                                                                  {test::step_line(0, 4, std::nullopt, 100, 10),
                                                                   test::step_line(1, 4, std::nullopt, 300, 30)}),
                                                  test::write_run(tmp / "b", test::run_config("exact", 2),
                                                                  {test::step_line(0, 4, std::nullopt, 5000, 20)})}),
                                        "val_loss");
    REQUIRE(c.groups.size() == 1);
    CHECK(c.groups[0].tokens_per_s == 300);
    CHECK(c.groups[0].ms_per_step == 20);
  }
}
