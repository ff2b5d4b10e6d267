// Reading run directories: the trainer's metrics.jsonl, read tolerantly.
#include <doctest/doctest.h>

#include <cmath>

#include "apps/report/run_metrics.h"
#include "core/error.h"
#include "tests/compare_fixture.h"

using namespace lmul;
using lmul::test::TempDir;

TEST_SUITE("compare") {
  TEST_CASE("a run dir is read into its config and its steps in order") {
    TempDir tmp;
    test::write_run(tmp / "exact_s1", test::run_config("exact", 7),
                    {test::step_line(0, 4.2, 4.25), test::step_line(10, 3.9), test::step_line(20, 3.5, 3.6)});
    const auto run = report::read_run(tmp / "exact_s1");
    CHECK(run.name == "exact_s1");
    CHECK(run.config["seed"] == 7);
    CHECK(run.config["arith"]["linear"] == "exact");
    REQUIRE(run.records.size() == 3);
    CHECK(run.records[1].step == 10);
    CHECK(*run.records[1].train_loss == doctest::Approx(3.9));
    CHECK_FALSE(run.records[1].val_loss.has_value());
    CHECK(*run.records[2].val_loss == doctest::Approx(3.6));
    CHECK(run.warnings.empty());
    const auto val = report::metric_series(run, "val_loss");
    CHECK(val.steps == std::vector<double>{0, 20});
  }

  TEST_CASE("a run named with a trailing slash is still named after its directory") {
    TempDir tmp;
    test::write_run(tmp / "lmul4", test::run_config(), {test::step_line(0, 4.2)});
    CHECK(report::read_run((tmp.path() / "lmul4").string() + "/").name == "lmul4");
  }

  TEST_CASE("garbage lines are skipped with a warning naming file and line") {
    TempDir tmp;
    test::write_run(
        tmp / "r", test::run_config(),
        {test::step_line(0, 4.2), "this is not json", "[1, 2]", R"({"train_loss": 3.0})",
         R"({"step": "ten", "train_loss": 3.0})", R"({"step": 20, "train_loss": "low"})", test::step_line(30, 3.1)});
    const auto run = report::read_run(tmp / "r");
    REQUIRE(run.records.size() == 2);
    CHECK(run.records[1].step == 30);
    REQUIRE(run.warnings.size() == 5);
    const std::string file = (tmp.path() / "r" / "metrics.jsonl").string();
    CHECK(run.warnings[0] == file + ":3: not valid JSON; line skipped");
    CHECK(run.warnings[1].find(file + ":4: not a JSON object") == 0);
    CHECK(run.warnings[2].find(":5: no \"step\" field") != std::string::npos);
    CHECK(run.warnings[3].find(":6: \"step\" is not an integer") != std::string::npos);
    CHECK(run.warnings[4].find(":7: \"train_loss\" is not a number") != std::string::npos);
  }

  TEST_CASE("a truncated last line of a growing file is skipped and called unfinished") {
    TempDir tmp;
    test::write_run(tmp / "r", test::run_config(), {test::step_line(0, 4.2), R"({"step": 10, "train_lo)"},
                    /*last_newline=*/false);
    const auto run = report::read_run(tmp / "r");
    CHECK(run.records.size() == 1);
    REQUIRE(run.warnings.size() == 1);
    CHECK(run.warnings[0].find("metrics.jsonl:3: not valid JSON (unfinished last line") != std::string::npos);
  }

  TEST_CASE("a diverged loss written as NaN, Infinity or null is read as NaN, not dropped") {
    TempDir tmp;
    test::write_run(tmp / "r", test::run_config(),
                    {R"({"step": 0, "train_loss": 4.2, "val_loss": NaN})", R"({"step": 10, "train_loss": Infinity})",
                     R"({"step": 20, "train_loss": null})"});
    const auto run = report::read_run(tmp / "r");
    REQUIRE(run.records.size() == 3);
    CHECK(std::isnan(*run.records[0].val_loss));
    CHECK(std::isnan(*run.records[1].train_loss));
    CHECK(std::isnan(*run.records[2].train_loss));
    CHECK(run.warnings.empty());
  }

  TEST_CASE("NaN inside a string is text, not a number") {
    TempDir tmp;
    test::write_run(tmp / "r", nullptr,
                    {R"({"config": {"dataset": "NaN \" Infinity", "dropout": NaN}})", test::step_line(0, 4.2)});
    const auto run = report::read_run(tmp / "r");
    CHECK(run.config["dataset"] == "NaN \" Infinity");
    CHECK(run.config["dropout"].is_null());
    CHECK(run.warnings.empty());
  }

  TEST_CASE("a resumed run's re-logged steps replace the earlier ones from that step on") {
    TempDir tmp;
    test::write_run(tmp / "r", test::run_config(),
                    {test::step_line(0, 4.0), test::step_line(10, 3.0), test::step_line(20, 2.0),
                     test::step_line(10, 3.3), test::step_line(20, 2.2), test::step_line(30, 1.9)});
    const auto run = report::read_run(tmp / "r");
    REQUIRE(run.records.size() == 4);
    CHECK(*run.records[1].train_loss == doctest::Approx(3.3));
    CHECK(*run.records[2].train_loss == doctest::Approx(2.2));
    CHECK(run.records[3].step == 30);
  }

  TEST_CASE("an eval line logged apart from the train line of the same step is merged into it") {
    TempDir tmp;
    test::write_run(tmp / "r", test::run_config(), {test::step_line(250, 2.0), R"({"step": 250, "val_loss": 2.1})"});
    const auto run = report::read_run(tmp / "r");
    REQUIRE(run.records.size() == 1);
    CHECK(*run.records[0].train_loss == doctest::Approx(2.0));
    CHECK(*run.records[0].val_loss == doctest::Approx(2.1));
  }

  TEST_CASE("without a header line the config comes from config.toml") {
    TempDir tmp;
    test::write_run(tmp / "r", nullptr, {test::step_line(0, 4.2)});
    std::ofstream(tmp.path() / "r" / "config.toml") << "seed = 5\nn_layer = 4\n[arith]\nlinear = \"lmul:m=4\"\n";
    const auto run = report::read_run(tmp / "r");
    CHECK(run.config["seed"] == 5);
    CHECK(run.config["arith"]["linear"] == "lmul:m=4");
    CHECK(run.warnings.empty());
  }

  TEST_CASE("without a header or config.toml the run is read with a warning") {
    TempDir tmp;
    test::write_run(tmp / "r", nullptr, {test::step_line(0, 4.2)});
    const auto run = report::read_run(tmp / "r");
    CHECK(run.records.size() == 1);
    REQUIRE(run.warnings.size() == 1);
    CHECK(run.warnings[0].find("no {\"config\": ...} header and no config.toml") != std::string::npos);
  }

  TEST_CASE("a missing run dir, a file or a dir without metrics.jsonl is a one-line error naming the path") {
    TempDir tmp;
    const std::string missing = (tmp.path() / "no_such_run").string();
    CHECK_THROWS_WITH_AS(report::read_run(missing), ("compare: run dir '" + missing + "' does not exist").c_str(),
                         Error);
    std::ofstream(tmp / "file") << "x";
    CHECK_THROWS_WITH_AS(report::read_run(tmp / "file"), doctest::Contains("is not a directory"), Error);
    std::filesystem::create_directories(tmp / "empty_dir");
    CHECK_THROWS_WITH_AS(report::read_run(tmp / "empty_dir"), doctest::Contains("has no readable metrics.jsonl"),
                         Error);
  }

  TEST_CASE("a metrics.jsonl with only the header gives a run with no records") {
    TempDir tmp;
    test::write_run(tmp / "r", test::run_config(), {});
    const auto run = report::read_run(tmp / "r");
    CHECK(run.records.empty());
    CHECK(run.warnings.empty());
  }
}
