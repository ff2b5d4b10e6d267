// `lmul compare` through the binary: exit codes, messages, and the files --out writes.
#include <doctest/doctest.h>

#include <sys/wait.h>

#include <cstdlib>

#include "tests/compare_fixture.h"

using namespace lmul;
using lmul::test::TempDir;

namespace {

struct Result {
  int rc = -1;
  std::string out, err;
};

// Runs `lmul ARGS` with stdout and stderr captured into files in tmp.
Result run_lmul(const TempDir& tmp, const std::string& args) {
  const auto out = tmp.path() / "stdout.txt", err = tmp.path() / "stderr.txt";
  const std::string cmd = fmt::format("'{}' {} >'{}' 2>'{}'", LMUL_BINARY, args, out.string(), err.string());
  const int status = std::system(cmd.c_str());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, test::read_text(out), test::read_text(err)};
}

std::string q(const std::filesystem::path& p) { return fmt::format("'{}'", p.string()); }

}  // namespace

TEST_SUITE("compare") {
  TEST_CASE("lmul compare prints the table and --out writes md, json, svg and html") {
    TempDir tmp;
    test::write_finished_run(tmp / "exact_s1", test::run_config("exact", 1), 1.9);
    test::write_finished_run(tmp / "exact_s2", test::run_config("exact", 2), 2.0);
    test::write_finished_run(tmp / "lmul", test::run_config("mystery:m=4", 1), 2.1);
    const auto r = run_lmul(tmp, fmt::format("compare {} {} {} --out {}", q(tmp / "exact_s1"), q(tmp / "exact_s2"),
                                             q(tmp / "lmul"), q(tmp / "report")));
    CHECK(r.rc == 0);
    CHECK(r.err == "");
    CHECK(r.out.find("exact_s{1,2}  exact") != std::string::npos);
    CHECK(r.out.find("1.9500 ± 0.0707") != std::string::npos);
    CHECK(r.out.find("+0.1500") != std::string::npos);
    for (const char* f : {"compare.md", "compare.json", "delta.svg", "loss.svg", "report.html"})
      CHECK_MESSAGE(std::filesystem::file_size(tmp.path() / "report" / f) > 100, f);
    CHECK(r.out.find("/delta.svg, ") != std::string::npos);
    CHECK(test::read_text(tmp.path() / "report" / "compare.md").starts_with("| run | arithmetic |"));
    CHECK(nlohmann::json::parse(test::read_text(tmp.path() / "report" / "compare.json"))["groups"].size() == 2);
  }

  TEST_CASE("a missing run dir is a one-line error naming the path, exit 2") {
    TempDir tmp;
    test::write_finished_run(tmp / "ok", test::run_config(), 1.9);
    const auto r = run_lmul(tmp, fmt::format("compare {} {}", q(tmp / "ok"), q(tmp / "missing")));
    CHECK(r.rc == 2);
    CHECK(r.err ==
          fmt::format("lmul: error: compare: run dir '{}' does not exist\n", (tmp.path() / "missing").string()));
    CHECK(r.out == "");
  }

  TEST_CASE("broken lines are warned about on stderr with file:line and the run is still compared") {
    TempDir tmp;
    test::write_run(tmp / "r", test::run_config(),
                    {test::step_line(0, 4.2, 4.3), "garbage", test::step_line(10, 3.0, 3.1)});
    const auto r = run_lmul(tmp, "compare " + q(tmp / "r"));
    CHECK(r.rc == 0);
    CHECK(r.err == fmt::format("lmul: warning: {}:3: not valid JSON; line skipped\n",
                               (tmp.path() / "r" / "metrics.jsonl").string()));
    CHECK(r.out.find("3.1000") != std::string::npos);
  }

  TEST_CASE("a run with no logged steps is skipped with a warning; if all are, it is an error") {
    TempDir tmp;
    test::write_run(tmp / "empty", test::run_config(), {});
    test::write_finished_run(tmp / "ok", test::run_config("exact", 2), 1.9);
    const auto some = run_lmul(tmp, fmt::format("compare {} {}", q(tmp / "empty"), q(tmp / "ok")));
    CHECK(some.rc == 0);
    CHECK(some.err.find("empty: no logged steps in metrics.jsonl yet; run skipped") != std::string::npos);
    CHECK(some.out.find("ok ") != std::string::npos);
    const auto none = run_lmul(tmp, "compare " + q(tmp / "empty"));
    CHECK(none.rc == 2);
    CHECK(none.err.find("lmul: error: compare: none of the 1 run dir(s) has a logged step") != std::string::npos);
  }

  TEST_CASE("incomparable setups are compared with a warning on stderr") {
    TempDir tmp;
    auto deep = test::run_config("exact", 1);
    deep["n_layer"] = 6;
    test::write_finished_run(tmp / "a", test::run_config("exact", 1), 1.9);
    test::write_finished_run(tmp / "b", deep, 1.7);
    const auto r = run_lmul(tmp, fmt::format("compare {} {}", q(tmp / "a"), q(tmp / "b")));
    CHECK(r.rc == 0);
    CHECK(r.err == "lmul: warning: runs differ in setup, compare with care — n_layer: 4 (a) vs 6 (b)\n");
  }

  TEST_CASE("--log-y puts the loss on a log axis and --metric train_loss titles the columns") {
    TempDir tmp;
    test::write_finished_run(tmp / "a", test::run_config(), 1.9);
    const auto r =
        run_lmul(tmp, fmt::format("compare {} --log-y --metric train_loss --out {}", q(tmp / "a"), q(tmp / "o")));
    CHECK(r.rc == 0);
    CHECK(r.out.find("final train") != std::string::npos);
    CHECK(r.out.find("1.8800") != std::string::npos);  // the last logged train loss
    CHECK(test::read_text(tmp.path() / "o" / "loss.svg").find(">loss (log scale)</text>") != std::string::npos);
  }

  TEST_CASE("a --metric no run logs is a usage error naming the keys they do log, exit 2") {
    TempDir tmp;
    test::write_finished_run(tmp / "a", test::run_config(), 1.9);
    const auto r = run_lmul(tmp, fmt::format("compare {} --metric loss", q(tmp / "a")));
    CHECK(r.rc == 2);
    CHECK(r.err ==
          "lmul: error: compare: --metric 'loss': no run logs it; the runs' step lines carry grad_norm, lr, "
          "ms_per_step, tokens_per_s, train_loss, val_loss\n");
    const auto both = run_lmul(tmp, fmt::format("compare {} --higher-better --lower-better", q(tmp / "a")));
    CHECK(both.rc == 2);
    CHECK(both.err.find("--higher-better") != std::string::npos);
  }

  TEST_CASE("--metric on a logged accuracy: higher is better, delta.svg sorted by it; no exact run, no delta.svg") {
    TempDir tmp;
    const auto acc_run = [&](const std::string& name, const std::string& linear, double acc) {
      test::write_run(tmp / name, test::run_config(linear, 1),
                      {nlohmann::json{{"step", 0}, {"train_loss", 4.0}, {"val_loss", 4.0}, {"val_acc", 0.0}}.dump(),
                       nlohmann::json{{"step", 100}, {"train_loss", 1.0}, {"val_loss", 1.0}, {"val_acc", acc}}.dump()});
    };
    acc_run("exact", "exact", 0.90);
    acc_run("lmul", "lmul:m=4", 0.95);
    acc_run("tern", "ternary", 0.40);
    const auto r = run_lmul(tmp, fmt::format("compare {} {} {} --metric val_acc --out {}", q(tmp / "exact"),
                                             q(tmp / "lmul"), q(tmp / "tern"), q(tmp / "o")));
    CHECK(r.rc == 0);
    CHECK(r.out.find("final val_acc") != std::string::npos);
    CHECK(r.out.find("Δ vs exact (higher better)") != std::string::npos);
    CHECK(r.out.find("+0.0500") != std::string::npos);
    const std::string delta = test::read_text(tmp.path() / "o" / "delta.svg");
    CHECK(delta.find("linear=lmul:m=4: +0.0500") < delta.find("linear=ternary: -0.5000"));
    CHECK(nlohmann::json::parse(test::read_text(tmp.path() / "o" / "compare.json"))["better"] == "higher");
    const auto low = run_lmul(tmp, fmt::format("compare {} {} {} --metric val_acc --lower-better --out {}",
                                               q(tmp / "exact"), q(tmp / "lmul"), q(tmp / "tern"), q(tmp / "o")));
    CHECK(low.rc == 0);
    CHECK(low.out.find("Δ vs exact (lower better)") != std::string::npos);
    // Without an exact run there is no Δ: delta.svg is not written (and an old one is removed).
    const auto none =
        run_lmul(tmp, fmt::format("compare {} {} --out {}", q(tmp / "lmul"), q(tmp / "tern"), q(tmp / "o")));
    CHECK(none.rc == 0);
    CHECK_FALSE(std::filesystem::exists(tmp.path() / "o" / "delta.svg"));
    CHECK(none.out.find("delta.svg") == std::string::npos);
  }

  TEST_CASE("lmul compare --help describes every option") {
    TempDir tmp;
    const auto r = run_lmul(tmp, "compare --help");
    CHECK(r.rc == 0);
    for (const char* text : {"run_dirs", "--out", "--log-y", "--metric", "val_loss", "train_loss", "seed", "delta.svg",
                             "--higher-better", "--lower-better"})
      CHECK_MESSAGE(r.out.find(text) != std::string::npos, text);
  }
}
