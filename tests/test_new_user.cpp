// A new user's first hour (the cases found by trying the README as a newcomer): resume cannot mix
// arithmetics, the console says what metrics.jsonl says, paths name the option that sets them,
// sweep directories are inputs like run directories, and the smaller papercuts.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>

#include <fmt/format.h>

#include "tests/compare_fixture.h"
#include "tests/test_helpers.h"

using namespace lmul::testing;
using lmul::test::TempDir;
namespace fs = std::filesystem;

namespace {
std::string tiny_config(const TempDir& d, const std::string& extra = "") { return tiny_cli_config(d, 4, extra); }

void expect_one_line_error(const RunResult& r, const std::string& what) {
  INFO(r.output);
  CHECK(r.exit_code == 2);
  CHECK(r.output.rfind("lmul: error: ", 0) == 0);
  CHECK(r.output.find(what) != std::string::npos);
  CHECK(std::count(r.output.begin(), r.output.end(), '\n') == 1);
}
}  // namespace

TEST_SUITE("new user") {
  TEST_CASE("resume through the config file cannot switch the run's arithmetic; the hint names the run dir") {
    TempDir d;
    const std::string cfg = tiny_config(d);
    REQUIRE(run_lmul("train -q " + cfg + " --set arith.linear=lmul:m=4").exit_code == 0);
    auto r = run_lmul("train " + cfg);  // the same command again
    expect_one_line_error(r, fmt::format("continue it with `lmul train {} --resume`", d / "run"));
    r = run_lmul("train -q " + cfg + " --resume --set max_iters=6");  // the config says exact
    expect_one_line_error(r,
                          "cannot resume with arith.linear=\"exact\": the run was trained with arith.linear="
                          "\"lmul:m=4,variant=bits,round=rne\"");
    CHECK(r.output.find("--allow-change arith.linear") != std::string::npos);
    CHECK(run_lmul("train -q " + (d / "run") + " --resume --set max_iters=6").exit_code == 0);  // as it was
    CHECK(run_lmul("train -q " + cfg + " --allow-change arith.linear").exit_code == 2);         // only with --resume
  }

  TEST_CASE("compare marks a run whose arithmetic changed on resume, and a Δ over different lengths") {
    TempDir d;
    const std::string cfg = tiny_config(d, "seed = 3\n");
    REQUIRE(run_lmul("train -q " + cfg + " --set arith.linear=lmul:m=4").exit_code == 0);
    REQUIRE(run_lmul("train -q " + cfg + " --resume --set max_iters=6 --allow-change arith.linear").exit_code == 0);
    REQUIRE(run_lmul("train -q " + cfg + " --set out_dir=" + (d / "exact") + " --set max_iters=2").exit_code == 0);
    auto r = run_lmul("compare " + (d / "run") + " " + (d / "exact"));
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK(r.output.find("the arithmetic changed when the run resumed at step 4") != std::string::npos);
    CHECK(r.output.find("[arith changed at step 4]") != std::string::npos);
    CHECK(r.output.find("ends at step 6 but its exact reference at step 2") != std::string::npos);
  }

  TEST_CASE("compare takes a directory of runs, skips a stray directory, and warns about a repeated seed") {
    TempDir d;
    namespace t = lmul::test;
    t::write_finished_run(d.path() / "sweep" / "exact.seed1", t::run_config("exact", 1), 1.9);
    t::write_finished_run(d.path() / "sweep" / "lmul.seed1", t::run_config("lmul:m=4", 1), 1.95);
    t::write_finished_run(d.path() / "sweep" / "lmul.again", t::run_config("lmul:m=4", 1), 1.96);
    fs::create_directories(d.path() / "sweep" / "notes");
    fs::create_directories(d.path() / "stray");
    auto r = run_lmul("compare " + (d / "sweep") + " " + (d / "stray"));
    INFO(r.output);
    CHECK(r.exit_code == 0);
    for (const char* run : {"exact.seed1", "lmul.{again,seed1}"}) CHECK(r.output.find(run) != std::string::npos);
    CHECK(r.output.find(d / "stray" + ": neither a run directory") != std::string::npos);
    CHECK(r.output.find("two runs share a seed") != std::string::npos);
    expect_one_line_error(run_lmul("compare " + (d / "stray")), "none of");
  }

  TEST_CASE("defaults relative to the repository root say which option to pass") {
    TempDir d;
    // from another directory than the repository root, the default input is not there
    auto r = run_lmul("prepare char --out " + (d / "o") + " --input ../shared/data/tinyshakespeare/nope.txt");
    expect_one_line_error(r, "pass --input FILE");
    CHECK(r.output.find("relative paths are from the working directory") != std::string::npos);
    // a sweep file's config is looked up beside the sweep file; a missing one names the key and both places
    write_file(d / "s.toml", "[sweep]\nconfig = \"nope.toml\"\narith = [\"exact\"]\n");
    r = run_lmul("sweep " + (d / "s.toml"));
    expect_one_line_error(r, "key 'sweep.config': nope.toml is neither beside the sweep file");
  }

  TEST_CASE("smaller papercuts: typo'd key, shape keys on eval, export into a new directory, inspect shows shapes") {
    TempDir d;
    expect_one_line_error(run_lmul("train " + tiny_config(d) + " --set learning_rat=1e-3"),
                          "unknown key 'learning_rat' (did you mean 'learning_rate'?)");
    const std::string cfg = tiny_config(d);
    REQUIRE(run_lmul("train -q " + cfg).exit_code == 0);
    expect_one_line_error(run_lmul("eval " + (d / "run") + " --set n_layer=2"), "n_layer fixes the model's shape");
    auto r = run_lmul("export " + (d / "run") + " --format int:b=4 --out " + (d / "new/dir/x.safetensors"));
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    r = run_lmul("inspect " + (d / "new/dir/x.safetensors"));
    CHECK(r.output.find("→ int:b=4 [16,16]") != std::string::npos);  // the packed U8 bytes' logical shape
    r = run_lmul("eval " + (d / "new/dir/x.safetensors") + " --iters 1");
    CHECK(r.output.find("weights decoded from int:b=4") != std::string::npos);
    r = run_lmul("sample " + (d / "new/dir/x.safetensors") + " --max-new-tokens 3 --set arith.linear=int:b=8");
    CHECK(r.exit_code == 0);
    CHECK(r.output.find("under arith: linear=int:w=8,a=8") != std::string::npos);
    CHECK(run_lmul("sample --help").output.find("TEXT=") == std::string::npos);
  }

  TEST_CASE("the console prints the logged loss under the logged step, every log_interval steps without a terminal") {
    TempDir d;
    auto r = run_lmul("train " + tiny_config(d, "log_interval = 2\n") +
                      " --set max_iters=5 --set eval_interval=100 --set lr_decay_iters=5");
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    const std::string metrics = read_file(d / "run/metrics.jsonl");
    for (int step : {0, 2, 4}) {
      const size_t at = metrics.find(fmt::format("{{\"step\":{},", step));
      REQUIRE(at != std::string::npos);
      const auto line = nlohmann::json::parse(metrics.substr(at, metrics.find('\n', at) - at));
      CHECK(r.output.find(fmt::format("iter {}/5: loss {:.4f}", step, line["train_loss"].get<double>())) !=
            std::string::npos);
    }
    CHECK(r.output.find("iter 1/5") == std::string::npos);  // log_interval = 2
    CHECK(r.output.find("iter 3/5") == std::string::npos);
  }
}

TEST_SUITE("new user") {
  TEST_CASE("prepare gpt2 without GPT-2's files names --vocab") {
    TempDir d;
    write_file(d / "t.txt", "hello\n");
    auto r = run_lmul("prepare gpt2 --input " + (d / "t.txt") + " --out " + (d / "o") + " --vocab " + (d / "nothere"));
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(r.output.find("pass --vocab DIR") != std::string::npos);
  }
}
