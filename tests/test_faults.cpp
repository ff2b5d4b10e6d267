// Injected faults, each through the real binary: a full disk (a file-size limit) while writing a
// checkpoint, metrics.jsonl or an export; a read-only run dir; the dataset truncated or replaced
// under a running job; ckpt/latest deleted between runs; a diverging run (alone and in a sweep);
// SIGKILL at fixed moments of `lmul sweep` and `lmul prepare gpt2`. What each must leave behind:
// the previous checkpoint intact, a one-line error naming the file, the documented exit code, and a
// next invocation that finishes the work as if nothing had happened (losses bit for bit).
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/safetensors.h"
#include "data/token_dataset.h"
#include "fault_helpers.h"
#include "train/checkpoint.h"

using namespace lmul;
using namespace lmul::testing;
using lmul::test::TempDir;
namespace fs = std::filesystem;
using std::chrono::milliseconds;

namespace {

// Every logged step's losses: {step: {train_loss, val_loss, eval_train_loss}} (the keys present).
std::map<int64_t, nlohmann::json> step_losses(const std::string& metrics) {
  std::istringstream in(read_file(metrics));
  std::map<int64_t, nlohmann::json> out;
  for (std::string line; std::getline(in, line);) {
    const auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.contains("step")) continue;
    nlohmann::json losses = nlohmann::json::object();
    for (const char* k : {"train_loss", "val_loss", "eval_train_loss"})
      if (j.contains(k)) losses[k] = j[k];
    out[j["step"].get<int64_t>()] = losses;
  }
  return out;
}

// The lmul error lines of an output ("lmul: error: ..." and "lmul: failed: ...").
std::vector<std::string> error_lines(const std::string& output) { return lines_starting(output, "lmul: "); }

std::vector<std::string> names_in(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

// Every F32 tensor of a safetensors file is finite.
bool all_finite(const std::string& path) {
  const auto f = SafetensorsFile::load(path);
  for (const auto& [name, e] : f.entries())
    if (e.dtype == "F32")
      for (float v : f.f32(name))
        if (!std::isfinite(v)) return false;
  return true;
}

// The tiny CLI config with one thread and a metrics line per step.
std::string fault_config(const TempDir& d, int max_iters = 8, const std::string& extra = "") {
  return tiny_cli_config(d, max_iters, "threads = 1\nlog_interval = 1\n" + extra);
}

// Waits (at most 20 s) for pid to end; kills it and fails if it does not.
int wait_exit(pid_t pid) {
  int status = 0;
  for (int i = 0; i < 4000; ++i) {
    if (::waitpid(pid, &status, WNOHANG) == pid) return status;
    std::this_thread::sleep_for(milliseconds(5));
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, &status, 0);
  FAIL("the process did not stop within 20 s");
  return status;
}

int64_t last_step(const std::string& metrics) {
  const auto s = step_losses(metrics);
  return s.empty() ? -1 : s.rbegin()->first;
}

}  // namespace

TEST_SUITE("faults") {
  TEST_CASE("disk full while writing a checkpoint: latest intact, one line naming it, exit 1, resume bit for bit") {
    TempDir d;
    const std::string cfg = fault_config(d), run = d / "run", latest = d / "run/ckpt/latest.safetensors";
    REQUIRE(run_lmul("train " + cfg + " -q --set out_dir=" + (d / "ref")).exit_code == 0);
    REQUIRE(run_lmul("train " + cfg + " -q --set max_iters=4").exit_code == 0);
    const std::string before = read_file(latest);
    REQUIRE(before.size() > 1000);
    // Resumed to 8 steps: the checkpoint of the evaluation at step 6 does not fit.
    const auto r = run_with_fault({"train", run, "--resume", "-q", "--set", "max_iters=8"},
                                  {static_cast<int64_t>(before.size() / 2)});
    INFO(r.output);
    CHECK(r.exit_code == 1);
    CHECK(error_lines(r.output) ==
          std::vector<std::string>{"lmul: failed: " + latest + ": write failed (File too large)"});
    CHECK(read_file(latest) == before);  // the previous checkpoint, untouched
    CHECK(names_in(d / "run/ckpt") == std::vector<std::string>{"best.safetensors", "latest.safetensors"});  // no .tmp
    CHECK(last_step(d / "run/metrics.jsonl") == 5);  // it trained steps 4 and 5 before failing

    const auto again = run_lmul("train " + run + " --resume -q --set max_iters=8");
    REQUIRE(again.exit_code == 0);
    CHECK(step_losses(d / "run/metrics.jsonl") == step_losses(d / "ref/metrics.jsonl"));
  }

  TEST_CASE("disk full while appending to metrics.jsonl: one line naming it, exit 1, resume bit for bit") {
    TempDir d;
    const std::string cfg = fault_config(d), run = d / "run", metrics = d / "run/metrics.jsonl";
    REQUIRE(run_lmul("train " + cfg + " -q --set out_dir=" + (d / "ref")).exit_code == 0);
    REQUIRE(run_lmul("train " + cfg + " -q --set max_iters=4").exit_code == 0);
    const std::string latest = read_file(d / "run/ckpt/latest.safetensors");
    const std::string header = read_file(metrics).substr(0, read_file(metrics).find('\n') + 1);
    // Room for the resumed run's header and less than two step lines: a line in the middle of a
    // run fails (the checkpoint, far larger, is not reached).
    const auto limit = static_cast<int64_t>(fs::file_size(metrics) + header.size() + 200);
    const auto r = run_with_fault({"train", run, "--resume", "-q", "--set", "max_iters=8"}, {limit});
    INFO(r.output);
    CHECK(r.exit_code == 1);
    CHECK(error_lines(r.output) ==
          std::vector<std::string>{"lmul: failed: " + metrics + ": write failed (File too large)"});
    CHECK(read_file(d / "run/ckpt/latest.safetensors") == latest);

    // The line cut short is dropped on resume; the losses are the uninterrupted run's.
    REQUIRE(run_lmul("train " + run + " --resume -q --set max_iters=8").exit_code == 0);
    CHECK(step_losses(metrics) == step_losses(d / "ref/metrics.jsonl"));
  }

  TEST_CASE("disk full while writing an export: one line naming it, exit 1, an earlier export intact") {
    TempDir d;
    const std::string cfg = fault_config(d, 2), out = d / "w.safetensors";
    REQUIRE(run_lmul("train " + cfg + " -q").exit_code == 0);
    REQUIRE(run_lmul("export " + (d / "run") + " --out " + out).exit_code == 0);
    const std::string before = read_file(out);
    for (const std::string& target : {out, d / "new.safetensors"}) {
      const auto r = run_with_fault({"export", d / "run", "--out", target, "--format", "int:b=8"}, {2048});
      INFO(r.output);
      CHECK(r.exit_code == 1);
      CHECK(error_lines(r.output) ==
            std::vector<std::string>{"lmul: failed: " + target + ": write failed (File too large)"});
    }
    CHECK(read_file(out) == before);
    CHECK_FALSE(fs::exists(d / "new.safetensors"));
    CHECK(names_in(d.str()) == std::vector<std::string>{"c.toml", "run", "w.safetensors"});  // no temporary left
  }

  TEST_CASE("a read-only run dir: resume and export fail before training, naming the file; nothing changes") {
    TempDir d;
    const std::string cfg = fault_config(d, 4), run = d / "run";
    REQUIRE(run_lmul("train " + cfg + " -q").exit_code == 0);
    // Root writes through permission bits: the binary then runs as nobody, who can read (not write)
    // the test's files.
    fs::permissions(d.path(), fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                  fs::perms::others_read | fs::perms::others_exec);
    fs::permissions(shakespeare_char_dir(), fs::perms::others_read | fs::perms::others_exec, fs::perm_options::add);
    const auto read_only = fs::perms::owner_read | fs::perms::owner_exec | fs::perms::group_read |
                           fs::perms::group_exec | fs::perms::others_read | fs::perms::others_exec;
    for (const auto& e : fs::recursive_directory_iterator(run))
      fs::permissions(e.path(), e.is_directory()
                                    ? read_only
                                    : fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read);
    fs::permissions(run, read_only);
    const std::string metrics = read_file(run + "/metrics.jsonl"), latest = read_file(run + "/ckpt/latest.safetensors");

    const auto r = run_with_fault({"train", run, "--resume", "-q", "--set", "max_iters=8"}, {-1, true});
    const auto e = run_with_fault({"export", run, "--out", run + "/w.safetensors"}, {-1, true});
    fs::permissions(run, fs::perms::owner_all, fs::perm_options::add);  // so that TempDir can clean up
    for (const auto& x : fs::recursive_directory_iterator(run))
      fs::permissions(x.path(), fs::perms::owner_write, fs::perm_options::add);
    if (r.exit_code == 126) {
      MESSAGE("skipped: cannot run the binary as uid 65534 (no CAP_SETUID), and root ignores a read-only mode");
      return;
    }
    INFO(r.output);
    INFO(e.output);
    CHECK(r.exit_code == 1);
    CHECK(error_lines(r.output) ==
          std::vector<std::string>{"lmul: failed: " + run + "/metrics.jsonl: cannot rewrite (Permission denied)"});
    CHECK(e.exit_code == 1);
    CHECK(error_lines(e.output) ==
          std::vector<std::string>{"lmul: failed: " + run + "/w.safetensors: cannot write (Permission denied)"});
    CHECK(read_file(run + "/metrics.jsonl") == metrics);
    CHECK(read_file(run + "/ckpt/latest.safetensors") == latest);
    CHECK(names_in(run) == std::vector<std::string>{"ckpt", "config.toml", "metrics.jsonl"});
  }

  TEST_CASE("the dataset truncated or replaced under a running job: a one-line error, exit 2, no SIGBUS") {
    for (const bool replace : {false, true}) {
      CAPTURE(replace);
      TempDir d;
      fs::copy(shakespeare_char_dir(), d / "data");
      const std::string cfg = fault_config(d, 1000000, "checkpoint_interval = 5\n");
      const std::string bin = d / "data/train.bin", metrics = d / "run/metrics.jsonl";
      const auto size = fs::file_size(bin);
      int p[2];
      REQUIRE(::pipe(p) == 0);
      const pid_t pid = spawn_with_fault(
          {"train", cfg, "-q", "--set", "dataset=" + (d / "data"), "--set", "eval_interval=50"}, {}, p[1]);
      ::close(p[1]);
      for (int i = 0; i < 4000 && last_step(metrics) < 12; ++i) std::this_thread::sleep_for(milliseconds(5));
      if (replace) {  // a new file renamed over the old one (what `lmul prepare` does)
        fs::copy_file(bin, bin + ".new");
        fs::rename(bin + ".new", bin);
      } else {
        REQUIRE(::truncate(bin.c_str(), 1000) == 0);
      }
      const int status = wait_exit(pid);
      std::string out;
      char buf[4096];
      for (ssize_t n; (n = ::read(p[0], buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
      ::close(p[0]);
      INFO(out);
      REQUIRE(WIFEXITED(status));  // not killed by SIGBUS
      CHECK(WEXITSTATUS(status) == 2);
      const std::string how =
          replace ? "replaced or removed" : fmt::format("truncated or extended (now 1000 bytes, {} when opened)", size);
      CHECK(error_lines(out) ==
            std::vector<std::string>{"lmul: error: " + bin + ": " + how +
                                     " while the run was reading it; the run stopped before using other data "
                                     "(restore the file to resume, or prepare the data again and start a new run)"});
      train::LoadedCheckpoint c;
      REQUIRE_NOTHROW(c = train::read_checkpoint_meta(d / "run/ckpt/latest.safetensors"));
      CHECK(c.state.iter >= 10);
      CHECK(c.state.iter <= last_step(metrics) + 1);
    }
  }

  TEST_CASE("ckpt/latest deleted between runs: resume says so in one line (exit 2); a sweep starts the run over") {
    TempDir d;
    const std::string cfg = fault_config(d, 4), run = d / "run", latest = d / "run/ckpt/latest.safetensors";
    REQUIRE(run_lmul("train " + cfg + " -q").exit_code == 0);
    fs::remove(latest);
    auto r = run_lmul("train " + run + " --resume -q");
    CHECK(r.exit_code == 2);
    CHECK(error_lines(r.output) ==
          std::vector<std::string>{"lmul: error: " + latest + ": missing, no checkpoint to resume from (" + run +
                                   "/ckpt/best.safetensors is there: copy it to "
                                   "latest.safetensors to resume from its step, or start "
                                   "again with --overwrite)"});
    fs::remove(run + "/ckpt/best.safetensors");
    r = run_lmul("train " + run + " --resume -q");
    CHECK(r.exit_code == 2);
    CHECK(error_lines(r.output) == std::vector<std::string>{"lmul: error: " + latest +
                                                            ": missing, no checkpoint to resume from (train from "
                                                            "scratch first)"});

    // A sweep finds the run without a checkpoint and trains it again from scratch, saying so.
    REQUIRE(run_lmul("sweep " + cfg + " --arith exact --out " + (d / "sw") + " -q").exit_code == 0);
    const std::string sweep_run = d / "sw/linear=exact.seed1337";
    const auto first = step_losses(sweep_run + "/metrics.jsonl");
    fs::remove(sweep_run + "/ckpt/latest.safetensors");
    r = run_lmul("sweep " + (d / "sw") + " -q");
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK(r.output.find("linear=exact.seed1337: starting over (no ckpt/latest.safetensors to resume from)") !=
          std::string::npos);
    CHECK(step_losses(sweep_run + "/metrics.jsonl") == first);
  }

  TEST_CASE("a diverging run stops at the step, names the last finite loss, keeps finite weights, exits 3") {
    TempDir d;
    // The largest learning rate and weight decay the schema allows: |w| grows ~10x a step.
    const std::string cfg =
        fault_config(d, 50, "learning_rate = 10\nweight_decay = 1\ndecay_lr = false\ncheckpoint_interval = 1\n");
    const auto r = run_lmul("train " + cfg + " -q");
    INFO(r.output);
    CHECK(r.exit_code == 3);
    const auto errors = error_lines(r.output);
    REQUIRE(errors.size() == 1);
    const std::string& e = errors[0];
    REQUIRE(e.rfind("lmul: failed: training diverged at step ", 0) == 0);
    const int64_t step = std::stoll(e.substr(std::string("lmul: failed: training diverged at step ").size()));
    const auto losses = step_losses(d / "run/metrics.jsonl");
    CHECK(last_step(d / "run/metrics.jsonl") == step - 1);  // the non-finite step is not logged
    CHECK(e.find(fmt::format("last finite loss {:.4f} at step {}", losses.at(step - 1)["train_loss"].get<double>(),
                             step - 1)) != std::string::npos);
    const std::string latest = d / "run/ckpt/latest.safetensors";
    const int64_t saved = train::read_checkpoint_meta(latest).state.iter;
    CHECK(e.find(fmt::format("{} kept at step {}", latest, saved)) != std::string::npos);
    CHECK(saved <= step);
    CHECK(all_finite(latest));
  }

  TEST_CASE("a sweep records a diverged run in status.json and trains the others") {
    TempDir d;
    const std::string cfg = fault_config(d, 20, "learning_rate = 10\nweight_decay = 1\ndecay_lr = false\n");
    // fp32 diverges at these settings; a saturating 4-bit float keeps every product finite.
    const auto r =
        run_lmul("sweep " + cfg + " --arith exact 'float:e=2,m=1' --site linear+head --out " + (d / "sw") + " -q");
    INFO(r.output);
    CHECK(r.exit_code == 1);
    const auto status = nlohmann::json::parse(read_file(d / "sw/status.json"));
    REQUIRE(status["runs"].size() == 2);
    const auto& diverged = status["runs"][0];
    const auto& finished = status["runs"][1];
    CHECK(diverged["state"] == "diverged");
    CHECK(diverged["message"].get<std::string>().rfind("training diverged at step " + diverged["step"].dump(), 0) == 0);
    CHECK(finished["state"] == "finished");
    CHECK(finished["step"] == 20);
    CHECK(last_step(d / ("sw/" + finished["name"].get<std::string>() + "/metrics.jsonl")) == 20);
    CHECK(r.output.find("sweep: " + diverged["name"].get<std::string>() + " diverged: training diverged at step") !=
          std::string::npos);
    CHECK(error_lines(r.output).back().find(diverged["name"].get<std::string>() + " diverged at step") !=
          std::string::npos);
    CHECK(fs::exists(d / "sw/compare.md"));
  }

  TEST_CASE("SIGKILL at fixed moments of lmul sweep: the next invocation finishes it, losses bit for bit") {
    TempDir d;
    const std::string cfg = fault_config(d, 400, "checkpoint_interval = 25\n");
    const std::vector<std::string> sweep = {"sweep", cfg,     "--arith",           "exact", "lmul:m=4",
                                            "-q",    "--set", "eval_interval=100", "--out"};
    auto args = [&](const std::string& out) {
      auto a = sweep;
      a.push_back(out);
      return a;
    };
    REQUIRE(run_with_fault(args(d / "ref"), {}).exit_code == 0);
    int landed = 0;
    for (int ms : {40, 90, 150, 220, 300, 400}) {
      CAPTURE(ms);
      landed += kill_after(args(d / "sw"), milliseconds(ms), d / "log.txt");
      // What a next invocation reads is whole: sweep.toml and every checkpoint.
      if (fs::exists(d / "sw/sweep.toml")) CHECK(read_file(d / "sw/sweep.toml").find("[sweep]") != std::string::npos);
      for (const char* run : {"linear=exact.seed1337", "linear=lmul_m=4.seed1337"}) {
        const std::string ckpt = d / ("sw/" + std::string(run) + "/ckpt/latest.safetensors");
        if (fs::exists(ckpt)) CHECK_NOTHROW(train::read_checkpoint_meta(ckpt));
      }
    }
    MESSAGE(landed, " of 6 kills landed while the sweep ran");
    CHECK(landed >= 3);
    const auto r = run_with_fault(args(d / "sw"), {});
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    for (const char* run : {"linear=exact.seed1337", "linear=lmul_m=4.seed1337"})
      CHECK(step_losses(d / ("sw/" + std::string(run) + "/metrics.jsonl")) ==
            step_losses(d / ("ref/" + std::string(run) + "/metrics.jsonl")));
    const auto status = nlohmann::json::parse(read_file(d / "sw/status.json"));  // kept alive: the loop reads it
    for (const auto& s : status["runs"]) CHECK(s["state"] == "finished");
    CHECK(fs::exists(d / "sw/compare.md"));
  }

  TEST_CASE("SIGKILL at fixed moments of lmul prepare gpt2: never a trusted half-written dataset; a rerun completes") {
    TempDir d;
    // Three copies of Tiny Shakespeare: long enough that kills land while the .bin files are written.
    const std::string text = read_file(shakespeare());
    const std::string input = d.write("input.txt", text + text + text);
    const std::vector<std::string> prepare = {
        "prepare", "gpt2", "--input", input, "--vocab", std::string(LMUL_SHARED_DIR) + "/data/gpt2", "--out"};
    auto args = [&](const std::string& out) {
      auto a = prepare;
      a.push_back(out);
      return a;
    };
    REQUIRE(run_with_fault(args(d / "ref"), {}).exit_code == 0);
    auto same_as_ref = [&](const std::string& dir) {
      for (const char* f : {"train.bin", "val.bin", "meta.json"})
        if (read_file(dir + "/" + f) != read_file(d / "ref" + std::string("/") + f)) return false;
      return true;
    };
    const std::string out = d / "out";
    int landed = 0, partial = 0, complete = 0;
    // Kills timed from the start (vocabulary loading, tokenising) and from the moment the output
    // files appear (writing them, renaming them into place, meta.json).
    for (const auto& [after_tmp, ms] : std::vector<std::pair<bool, int>>{
             {false, 30}, {false, 150}, {true, 0}, {true, 20}, {true, 60}, {true, 120}, {true, 250}}) {
      CAPTURE(after_tmp);
      CAPTURE(ms);
      const int log = ::open((d / "log.txt").c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      const pid_t pid = spawn_with_fault(args(out), {}, log);
      ::close(log);
      for (int i = 0; after_tmp && i < 4000 && !fs::exists(out + "/train.bin.tmp"); ++i)
        std::this_thread::sleep_for(milliseconds(1));
      std::this_thread::sleep_for(milliseconds(ms));
      ::kill(pid, SIGKILL);
      int status = 0;
      ::waitpid(pid, &status, 0);
      landed += WIFSIGNALED(status);
      // Either the whole dataset (meta.json is written last) or one that no loader takes.
      if (fs::exists(out + "/meta.json")) {
        CHECK(same_as_ref(out));
        ++complete;
      } else if (fs::exists(out)) {
        CHECK_THROWS_AS(data::TokenDataset{out}, lmul::Error);
        for (const auto& name : names_in(out)) partial += name.ends_with(".tmp");
      }
    }
    MESSAGE(landed, " of 7 kills landed while prepare ran; ", partial, " half-written .tmp files were left, ", complete,
            " times the complete dataset");
    CHECK(landed >= 3);
    const auto r = run_with_fault(args(out), {});
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    CHECK(same_as_ref(out));
    CHECK(names_in(out) == std::vector<std::string>{"meta.json", "train.bin", "val.bin"});
  }
}
