#include <algorithm>
// `lmul sweep` through the binary on a tiny model: the runs it trains, skips and resumes, the
// comparison it writes, and its errors before anything runs.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>
#include <sstream>

#include <nlohmann/json.hpp>

#include "test_helpers.h"

using namespace lmul::testing;
using lmul::test::TempDir;
namespace fs = std::filesystem;

namespace {

// A model small enough to train 6 steps in a blink: the sweep's bookkeeping is under test.
void write_tiny_config(const TempDir& d) {
  write_file(d / "c.toml", "dataset = \"" + shakespeare_char_dir() + "\"\nout_dir = \"" + (d / "tiny") +
                               "\"\n"
                               "n_layer = 1\nn_head = 1\nn_embd = 16\nblock_size = 16\nbatch_size = 2\n"
                               "max_iters = 6\neval_interval = 3\neval_iters = 1\nlog_interval = 1\n"
                               "warmup_iters = 0\nlr_decay_iters = 6\nthreads = 1\n");
}

std::string q(const std::string& s) { return "'" + s + "'"; }

// The JSON objects of a run's metrics.jsonl after the first header.
std::vector<nlohmann::json> metrics_lines(const std::string& run_dir) {
  std::istringstream in(read_file(run_dir + "/metrics.jsonl"));
  std::vector<nlohmann::json> out;
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  return out;
}

// The last of them (the final evaluation of a finished run).
nlohmann::json last_metrics(const std::string& run_dir) {
  const auto lines = metrics_lines(run_dir);
  REQUIRE_MESSAGE(!lines.empty(), run_dir);
  return lines.back();
}

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
  return n;
}

// Drops the last line of a file (the final evaluation of metrics.jsonl): an interrupted run's state.
void drop_last_line(const std::string& path) {
  std::string text = read_file(path);
  text.pop_back();
  text.erase(text.rfind('\n') + 1);
  write_file(path, text);
}

}  // namespace

TEST_SUITE("sweep") {
  TEST_CASE("a sweep of two arithmetics × two seeds trains 4 runs and writes the comparison") {
    TempDir d;
    write_tiny_config(d);
    const auto r = run_lmul("sweep " + q(d / "c.toml") + " --arith exact 'linear=exact+backward=exact' --seeds 1,2 -q");
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    const std::string sweep = d / "tiny_sweep";
    for (const char* run : {"linear=exact.seed1", "linear=exact.seed2", "linear=exact+backward=exact.seed1",
                            "linear=exact+backward=exact.seed2"}) {
      CAPTURE(run);
      const auto lines = metrics_lines(sweep + "/" + run);
      REQUIRE(lines.size() > 2);
      CHECK(lines.back()["step"] == 6);
      CHECK(lines.back().contains("val_loss"));
      CHECK(fs::exists(sweep + "/" + run + "/ckpt/latest.safetensors"));
    }
    CHECK(metrics_lines(sweep + "/linear=exact+backward=exact.seed2").front()["config"]["arith"]["backward"] ==
          "exact");
    CHECK(metrics_lines(sweep + "/linear=exact.seed2").front()["config"]["seed"] == 2);
    for (const char* f : {"sweep.toml", "compare.md", "compare.json", "loss.svg", "report.html"})
      CHECK_MESSAGE(fs::file_size(sweep + "/" + f) > 50, f);
    const auto cmp = nlohmann::json::parse(read_file(sweep + "/compare.json"));
    REQUIRE(cmp["groups"].size() == 2);
    CHECK(cmp["groups"][0]["runs"].size() == 2);  // two seeds per arithmetic
    CHECK(r.output.find("lmul sweep: 4 runs in " + sweep + " (0 finished earlier, 4 to train)") != std::string::npos);
    CHECK(r.output.find("4/4 | all runs finished; comparing") != std::string::npos);
    CHECK(r.output.find("| run ") == std::string::npos);  // the terminal table, not markdown, is printed
    CHECK(r.output.find("exact") != std::string::npos);
  }

  TEST_CASE(
      "running a sweep again skips its finished runs; one missing its final line resumes, one without checkpoint "
      "restarts") {
    TempDir d;
    write_tiny_config(d);
    write_file(d / "s.toml", "[sweep]\nconfig = " + q(d / "c.toml") +
                                 "\narith = [\"exact\"]\nseeds = [1, 2, 3]\nout = " + q(d / "sw") + "\n");
    REQUIRE(run_lmul("sweep " + q(d / "s.toml") + " -q").exit_code == 0);
    const std::string s1 = d / "sw/linear=exact.seed1", s2 = d / "sw/linear=exact.seed2",
                      s3 = d / "sw/linear=exact.seed3";
    const auto t1 = fs::last_write_time(s1 + "/metrics.jsonl"),
               t2 = fs::last_write_time(s2 + "/ckpt/latest.safetensors");

    // The sweep dir alone resumes the sweep (its sweep.toml); every run is finished.
    const auto again = run_lmul("sweep " + q(d / "sw") + " -q");
    INFO(again.output);
    REQUIRE(again.exit_code == 0);
    CHECK(count(again.output, "finished earlier, skipped") == 3);
    CHECK(fs::last_write_time(s1 + "/metrics.jsonl") == t1);
    CHECK(fs::last_write_time(s2 + "/ckpt/latest.safetensors") == t2);

    drop_last_line(s2 + "/metrics.jsonl");  // stopped before the final evaluation reached the file
    fs::remove_all(s3 + "/ckpt");           // stopped before its first checkpoint
    const auto third = run_lmul("sweep " + q(d / "s.toml") + " -q");
    INFO(third.output);
    REQUIRE(third.exit_code == 0);
    CHECK(third.output.find("linear=exact.seed1: finished earlier, skipped") != std::string::npos);
    CHECK(third.output.find("linear=exact.seed2: resuming at step 6") != std::string::npos);
    CHECK(third.output.find("linear=exact.seed3: starting") != std::string::npos);
    CHECK(fs::last_write_time(s1 + "/metrics.jsonl") == t1);
    CHECK(last_metrics(s2)["step"] == 6);
    CHECK(last_metrics(s2).contains("val_loss"));
    const auto l3 = metrics_lines(s3);  // started over: one header, then steps 0..6, nothing left from before
    REQUIRE(l3.size() == 8);
    CHECK(l3.front().contains("config"));
    CHECK(l3[1]["step"] == 0);
    CHECK(l3.back()["step"] == 6);
    CHECK(fs::exists(s3 + "/ckpt/latest.safetensors"));
  }

  TEST_CASE("a run checkpointed before max_iters resumes there and trains the remaining steps") {
    TempDir d;
    write_tiny_config(d);
    const std::string base = "sweep " + q(d / "c.toml") + " --arith exact --seeds 1 --out " + q(d / "sw") + " -q";
    REQUIRE(run_lmul(base + " --set max_iters=3 --set decay_lr=false").exit_code == 0);
    const auto r = run_lmul(base + " --set max_iters=6 --set decay_lr=false");
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    CHECK(r.output.find("linear=exact.seed1: resuming at step 3") != std::string::npos);
    const auto lines = metrics_lines(d / "sw/linear=exact.seed1");
    REQUIRE(!lines.empty());
    CHECK(lines.back()["step"] == 6);
    bool trained_step_4 = false;
    for (const auto& j : lines) trained_step_4 |= j.value("step", -1) == 4 && j.contains("train_loss");
    CHECK(trained_step_4);
  }

  TEST_CASE("a run that fails at run time does not stop the others; the sweep compares them and exits 1") {
    TempDir d;
    write_tiny_config(d);
    fs::create_directories(d / "tiny_sweep/linear=exact.seed1/metrics.jsonl");  // a directory: cannot be written
    const auto r = run_lmul("sweep " + q(d / "c.toml") + " --arith exact --seeds 1,2 -q");
    INFO(r.output);
    CHECK(r.exit_code == 1);
    CHECK(r.output.find("sweep: linear=exact.seed1 failed: ") != std::string::npos);
    CHECK(r.output.find("lmul: failed: sweep: 1 of 2 runs failed (linear=exact.seed1)") != std::string::npos);
    const auto lines = metrics_lines(d / "tiny_sweep/linear=exact.seed2");
    REQUIRE(!lines.empty());
    CHECK(lines.back()["step"] == 6);
    CHECK(fs::exists(d / "tiny_sweep/compare.md"));
  }

  TEST_CASE("a bad spec is a one-line error naming it, before any run starts") {
    TempDir d;
    write_tiny_config(d);
    const auto r = run_lmul("sweep " + q(d / "c.toml") + " --arith 'exact;nosuch:m=4,variant=formula'");
    CHECK(r.exit_code == 2);
    CHECK(
        r.output.rfind(
            "lmul: error: sweep: --arith entry 'nosuch:m=4,variant=formula': arith spec 'nosuch:m=4,variant=formula': "
            "unknown format 'nosuch' (known: exact, ",
            0) == 0);
    CHECK(std::count(r.output.begin(), r.output.end(), '\n') == 1);
    CHECK_FALSE(fs::exists(d / "tiny_sweep"));
  }

  TEST_CASE("--arith entries may be joined by ','; in a sweep file a ','-joined string is an error saying why") {
    TempDir d;
    write_tiny_config(d);
    const auto r =
        run_lmul("sweep " + q(d / "c.toml") + " -q --arith exact,lmul:m=4,variant=formula --out " + q(d / "sw"));
    REQUIRE(r.exit_code == 0);
    CHECK(fs::exists(d / "sw/linear=exact.seed1337/metrics.jsonl"));
    CHECK(fs::exists(d / "sw/linear=lmul_m=4,variant=formula.seed1337/metrics.jsonl"));
    write_file(d / "s.toml", "[sweep]\nconfig = " + q(d / "c.toml") + "\narith = [\"exact,lmul:m=4\"]\n");
    const auto f = run_lmul("sweep " + q(d / "s.toml"));
    CHECK(f.exit_code == 2);
    CHECK(f.output.find("give each entry as its own string") != std::string::npos);
    const auto one = run_lmul("sweep " + q(d / "c.toml") + " --arith exact:m=4");  // a bad option, not a list
    CHECK(one.exit_code == 2);
    CHECK(one.output.find("its own string") == std::string::npos);
  }

  TEST_CASE("a bad --site is a one-line error, before any run starts") {
    TempDir d;
    write_tiny_config(d);
    const auto r = run_lmul("sweep " + q(d / "c.toml") + " --arith exact --site linear+mlp");
    CHECK(r.exit_code == 2);
    CHECK(r.output ==
          "lmul: error: sweep: --site 'linear+mlp': unknown site 'mlp' (choose linear, attention, head, embedding, "
          "all, or several joined by '+')\n");
    CHECK_FALSE(fs::exists(d / "tiny_sweep"));
  }

  TEST_CASE("SIGINT in the middle of a sweep keeps the finished run; the same command then completes the sweep") {
    TempDir d;
    write_tiny_config(d);
    // Long enough runs (tenths of a second) that the signal lands inside the second one.
    const std::vector<std::string> args = {LMUL_BINARY,  "sweep",
                                           d / "c.toml", "--arith",
                                           "exact",      "--seeds",
                                           "1,2",        "-q",
                                           "--set",      "max_iters=3000",
                                           "--set",      "lr_decay_iters=3000",
                                           "--set",      "eval_interval=1000",
                                           "--set",      "checkpoint_interval=100"};
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    posix_spawn_file_actions_t io;
    posix_spawn_file_actions_init(&io);
    posix_spawn_file_actions_addopen(&io, 1, (d / "out.txt").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&io, 1, 2);
    pid_t pid = 0;
    REQUIRE(posix_spawn(&pid, LMUL_BINARY, &io, nullptr, argv.data(), environ) == 0);
    posix_spawn_file_actions_destroy(&io);
    const std::string s1 = d / "tiny_sweep/linear=exact.seed1", s2 = d / "tiny_sweep/linear=exact.seed2";
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    while (!fs::exists(s2 + "/metrics.jsonl") && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ::kill(pid, SIGINT);
    int status = 0;
    ::waitpid(pid, &status, 0);
    INFO(read_file(d / "out.txt"));
    REQUIRE(WIFSIGNALED(status));  // stopped by the signal, not finished before it came
    REQUIRE(last_metrics(s1)["step"] == 3000);
    const auto t1 = fs::last_write_time(s1 + "/metrics.jsonl");

    const auto r = run_lmul("sweep " + q(d / "c.toml") +
                            " --arith exact --seeds 1,2 -q --set max_iters=3000 --set lr_decay_iters=3000 "
                            "--set eval_interval=1000 --set checkpoint_interval=100");
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    CHECK(r.output.find("linear=exact.seed1: finished earlier, skipped") != std::string::npos);
    CHECK((r.output.find("linear=exact.seed2: resuming at step") != std::string::npos ||
           r.output.find("linear=exact.seed2: starting") != std::string::npos));
    CHECK(fs::last_write_time(s1 + "/metrics.jsonl") == t1);
    CHECK(last_metrics(s2)["step"] == 3000);
    CHECK(fs::exists(d / "tiny_sweep/compare.md"));
  }

  TEST_CASE("a training config without --arith is an error saying what to add") {
    TempDir d;
    write_tiny_config(d);
    const auto r = run_lmul("sweep " + q(d / "c.toml"));
    CHECK(r.exit_code == 2);
    CHECK(r.output.find("give the arithmetics with --arith") != std::string::npos);
  }
}

TEST_SUITE("sweep") {
  TEST_CASE("a second sweep into the same dir extends it; another setup is refused, nothing discarded") {
    TempDir d;
    write_tiny_config(d);
    REQUIRE(
        run_lmul("sweep " + q(d / "c.toml") + " --arith exact lmul:m=4 --seeds 1 -q --out " + q(d / "sw")).exit_code ==
        0);
    const auto r = run_lmul("sweep " + q(d / "c.toml") + " --arith exact --seeds 1,2 -q --out " + q(d / "sw"));
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    CHECK(r.output.find("already holds a sweep: extending it") != std::string::npos);
    const std::string toml = read_file(d / "sw/sweep.toml");
    CHECK(toml.find("lmul:m=4") != std::string::npos);  // the first sweep's entry stays
    const std::string md = read_file(d / "sw/compare.md");
    CHECK(md.find("lmul:m=4") != std::string::npos);
    CHECK(std::filesystem::exists(d / "sw/linear=exact.seed2/metrics.jsonl"));
    const auto other =
        run_lmul("sweep " + q(d / "c.toml") + " --arith exact --set learning_rate=0.01 -q --out " + q(d / "sw"));
    CHECK(other.exit_code == 2);
    CHECK(other.output.find("holds a sweep with set = [") != std::string::npos);
    CHECK(read_file(d / "sw/sweep.toml") == toml);
  }
}
