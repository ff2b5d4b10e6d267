// Crash safety through the real binary: SIGKILL at random moments never leaves an unloadable or
// future ckpt/latest; SIGINT finishes the step, writes latest and exits 0 with how to resume.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <random>
#include <thread>

#include <nlohmann/json.hpp>

#include "train/checkpoint.h"
#include "test_helpers.h"

using namespace lmul;
using namespace lmul::testing;
using lmul::test::TempDir;

namespace {
// Starts `lmul ARGS` with stdout and stderr into log; returns its pid.
pid_t spawn_lmul(const std::vector<std::string>& args, const std::string& log) {
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(LMUL_BINARY));
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(LMUL_BINARY, argv.data());
    ::_exit(127);
  }
  return pid;
}

std::vector<std::string> tiny_args(const std::string& config, const std::string& out_dir) {
  std::vector<std::string> a = {"train", config, "-q"};
  for (const std::string& s : std::vector<std::string>{
           "dataset=" + shakespeare_char_dir(), "out_dir=" + out_dir, "n_layer=1", "n_head=2", "n_embd=16",
           "block_size=16", "batch_size=2", "max_iters=1000000", "eval_interval=50", "eval_iters=1", "log_interval=1",
           "warmup_iters=2", "lr_decay_iters=1000000", "checkpoint_interval=1", "dropout=0.1", "threads=1"}) {
    a.push_back("--set");
    a.push_back(s);
  }
  return a;
}

// The last step logged in metrics.jsonl, -1 if none.
int64_t last_logged_step(const std::string& metrics) {
  std::istringstream in(read_file(metrics));
  std::string line;
  int64_t last = -1;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_discarded() && j.contains("step") && j.contains("train_loss")) last = j["step"].get<int64_t>();
  }
  return last;
}

void wait_for_steps(const std::string& metrics, int64_t step) {
  for (int i = 0; i < 2000 && last_logged_step(metrics) < step; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
}
}  // namespace

TEST_SUITE("ckpt") {
  TEST_CASE("SIGKILL at 24 random moments never leaves a corrupt or future latest checkpoint") {
    TempDir d;
    write_file(d / "c.toml", "");
    const std::string run = d / "run", latest = d / "run/ckpt/latest.safetensors", metrics = d / "run/metrics.jsonl";
    std::mt19937 gen(20241125);
    std::uniform_int_distribution<int> sleep_ms(5, 250);
    int64_t previous = 0;
    int loaded = 0;
    for (int round = 0; round < 24; ++round) {
      auto args = tiny_args(d / "c.toml", run);
      if (std::filesystem::exists(latest)) {
        args[1] = run;
        args.push_back("--resume");
      } else {
        args.push_back("--overwrite");
      }
      const int64_t before =
          std::filesystem::exists(metrics) && args.back() == "--resume" ? last_logged_step(metrics) : -1;
      const pid_t pid = spawn_lmul(args, d / "log.txt");
      // Past start-up first (slow under sanitizers, on a busy machine): the kill lands while it trains.
      wait_for_steps(metrics, before + 1);
      std::this_thread::sleep_for(std::chrono::milliseconds(sleep_ms(gen)));
      ::kill(pid, SIGKILL);
      int status = 0;
      ::waitpid(pid, &status, 0);
      CHECK(WIFSIGNALED(status));
      if (!std::filesystem::exists(latest)) continue;
      train::LoadedCheckpoint c;
      REQUIRE_NOTHROW(c = train::read_checkpoint_meta(latest));  // parses and the checksum holds
      ++loaded;
      CAPTURE(round);
      CHECK(c.state.iter <= last_logged_step(metrics) + 1);  // never ahead of what the process reached
      CHECK(c.state.iter >= previous);
      previous = c.state.iter;
    }
    CHECK(loaded >= 20);
    CHECK(previous > 0);
    MESSAGE("after 24 kills latest is at step ", previous);
  }

  TEST_CASE("SIGINT finishes the step, writes latest, exits 0 and says how to resume") {
    TempDir d;
    write_file(d / "c.toml", "");
    const std::string run = d / "run", metrics = d / "run/metrics.jsonl";
    auto args = tiny_args(d / "c.toml", run);
    args.push_back("--set");
    args.push_back("checkpoint_interval=0");
    const pid_t pid = spawn_lmul(args, d / "log.txt");
    wait_for_steps(metrics, 5);
    ::kill(pid, SIGINT);
    int status = 0;
    ::waitpid(pid, &status, 0);
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    const std::string log = read_file(d / "log.txt");
    CHECK(log.find("stopped by SIGINT") != std::string::npos);
    CHECK(log.find("lmul train " + run + " --resume") != std::string::npos);
    auto c = train::read_checkpoint_meta(d / "run/ckpt/latest.safetensors");
    CHECK(c.state.iter == last_logged_step(metrics) + 1);
    CHECK(c.state.iter >= 6);

    // and the run resumes from there
    auto r = run_lmul("train " + run + " --resume -q --set max_iters=" + std::to_string(c.state.iter + 3));
    CHECK(r.exit_code == 0);
    CHECK(train::read_checkpoint_meta(d / "run/ckpt/latest.safetensors").state.iter == c.state.iter + 3);
  }

  TEST_CASE("SIGTERM stops like SIGINT") {
    TempDir d;
    write_file(d / "c.toml", "");
    const std::string run = d / "run";
    const pid_t pid = spawn_lmul(tiny_args(d / "c.toml", run), d / "log.txt");
    wait_for_steps(d / "run/metrics.jsonl", 2);
    ::kill(pid, SIGTERM);
    int status = 0;
    ::waitpid(pid, &status, 0);
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    CHECK(read_file(d / "log.txt").find("stopped by SIGTERM") != std::string::npos);
  }
}
