// Data-parallel training under mpirun (train/distributed.h), two processes on this machine: the
// bit-exactness the README states, a checkpoint from two ranks resumed by one, the TCP transport,
// the errors (accumulation steps not divisible by N, ranks that disagree on the config, stateful
// arithmetic) and SIGTERM; and `mpirun -np 2 lmul sweep`: the runs spread over the ranks, bit for
// bit as in one process, resumed, a failing run.
// Skipped, with a message, in a build without MPI or where mpirun is not installed.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "tests/test_helpers.h"

using namespace lmul;
using namespace lmul::testing;

namespace {

bool mpi_available() {
#ifndef LMUL_HAVE_MPI
  MESSAGE("skipped: lmul is built without MPI (install openmpi-bin and libopenmpi-dev, then reconfigure)");
  return false;
#else
  if (std::system("command -v mpirun > /dev/null 2>&1") != 0) {
    MESSAGE("skipped: mpirun is not installed (scripts/install-deps.sh installs openmpi-bin)");
    return false;
  }
  return true;
#endif
}

// `mpirun [mpirun options] -np N lmul ARGS`, as root too (CI runs as root in a container), more
// ranks than cores allowed. kMpiEnv also turns LeakSanitizer off in the ranks of a sanitizer
// build: Open MPI leaves its own allocations (op tables, MCA components' strings) unfreed at
// MPI_Finalize, which LSan would report as lmul's; ASan and UBSan stay on.
constexpr const char* kMpiEnv = "ASAN_OPTIONS=detect_leaks=0 OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1";

// timeout: a job that hangs fails the test instead of hanging it.
RunResult mpirun(const std::string& mpirun_args, const std::string& lmul_args) {
  return run_shell(fmt::format("{} timeout 300 mpirun --oversubscribe --bind-to none {} {} {} < /dev/null 2>&1",
                               kMpiEnv, mpirun_args, LMUL_BINARY, lmul_args));
}

// Every logged step (losses, gradient norm, lr) of a run, as text: comparing them compares bits.
std::vector<std::string> logged(const std::filesystem::path& run) { return step_lines(run / "metrics.jsonl"); }

// Two micro-batches per step (one per rank at -np 2), dropout on: the dropout stream must follow
// the micro-batch, not the rank. 40 × 16 = 640 token rows per micro-batch: the weight gradients'
// GEMMs are long enough (OpenBLAS blocks them) that a backward accumulating into the previous
// micro-batch's gradient rounds differently from adding whole per-micro-batch gradients.
std::string config(const test::TempDir& d) {
  const std::string path = tiny_cli_config(d, 4, "gradient_accumulation_steps = 2\ndropout = 0.1\nthreads = 1\n");
  std::string text = read_file(path);
  text.replace(text.find("batch_size = 2\n"), 15, "batch_size = 40\n");
  write_file(path, text);
  return path;
}

// A sweep file of 4 short runs (2 arithmetics × 2 seeds) of the tiny model, one thread each.
std::string sweep_file(const test::TempDir& d) {
  const std::string c = tiny_cli_config(d, 6, "threads = 1\n");
  write_file(d / "s.toml",
             fmt::format("[sweep]\nconfig = '{}'\narith = [\"exact\", \"lmul:m=4\"]\nseeds = [1, 2]\n", c));
  return d / "s.toml";
}

constexpr const char* kSweepRuns[] = {"linear=exact.seed1", "linear=lmul_m=4.seed1", "linear=exact.seed2",
                                      "linear=lmul_m=4.seed2"};

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
  return n;
}

}  // namespace

TEST_SUITE("mpi") {
  TEST_CASE("mpirun -np 2: the same bits twice, and the single process's bits with one micro-batch per rank") {
    if (!mpi_available()) return;
    test::TempDir d;
    const std::string c = config(d);
    const auto run = d / "run";
    const RunResult one = run_lmul(fmt::format("train {} -q", c));
    REQUIRE_MESSAGE(one.exit_code == 0, one.output);
    const std::vector<std::string> single = logged(run);
    REQUIRE(single.size() >= 5);  // steps 0..4, each with its losses
    for (const auto& line : single) CHECK(line.find("loss=") != std::string::npos);

    const RunResult a = mpirun("-np 2", fmt::format("train {} -q --overwrite", c));
    REQUIRE_MESSAGE(a.exit_code == 0, a.output);
    const std::vector<std::string> first = logged(run);
    const RunResult b = mpirun("-np 2", fmt::format("train {} -q --overwrite", c));
    REQUIRE_MESSAGE(b.exit_code == 0, b.output);
    CHECK(logged(run) == first);  // same config, seed, N: bit-identical
    CHECK(first == single);       // gradient_accumulation_steps = N: bit-identical to one process
  }

  TEST_CASE("mpirun -np 2 over TCP (--mca btl self,tcp) gives the single process's bits") {
    if (!mpi_available()) return;
    test::TempDir d;
    const std::string c = config(d);
    REQUIRE(run_lmul(fmt::format("train {} -q", c)).exit_code == 0);
    const std::vector<std::string> single = logged(d / "run");
    const RunResult r = mpirun("--mca btl self,tcp -np 2", fmt::format("train {} -q --overwrite", c));
    REQUIRE_MESSAGE(r.exit_code == 0, r.output);
    CHECK(logged(d / "run") == single);
  }

  TEST_CASE(
      "a model larger than one round of the exchange: -np 2 gives the single process's bits, and resumes in one") {
    // The gradient exchange and the all-gather run in rounds of 2^20 / N values per owner
    // (train/distributed_mpi.cpp): 2 layers of width 256 are ~1.6M parameters, so each of the 2
    // shards (~0.8M values) takes 2 rounds, and rounds end inside tensors.
    if (!mpi_available()) return;
    test::TempDir d;
    const std::string c = tiny_cli_config(d, 3, "gradient_accumulation_steps = 2\nthreads = 1\n");
    std::string text = read_file(c);
    for (const auto& [from, to] : {std::pair<std::string, std::string>{"n_layer = 1\n", "n_layer = 2\n"},
                                   {"n_embd = 16\n", "n_embd = 256\n"},
                                   {"batch_size = 2\n", "batch_size = 8\n"}})
      text.replace(text.find(from), from.size(), to);
    write_file(c, text);
    const RunResult one = run_lmul(fmt::format("train {} -q", c));
    REQUIRE_MESSAGE(one.exit_code == 0, one.output);
    const size_t at = one.output.find("lmul train: ");
    REQUIRE(at != std::string::npos);
    CHECK(std::stoll(one.output.substr(at + 12)) / 2 > (int64_t{1} << 20) / 2);  // more than a round per shard
    const std::vector<std::string> single = logged(d / "run");
    const RunResult two = mpirun("-np 2", fmt::format("train {} -q --overwrite", c));
    REQUIRE_MESSAGE(two.exit_code == 0, two.output);
    CHECK(logged(d / "run") == single);
    // The checkpoint's moments are gathered in rounds too: two ranks' step 2 resumed by one process.
    const RunResult half = mpirun("-np 2", fmt::format("train {} -q --overwrite --set max_iters=2", c));
    REQUIRE_MESSAGE(half.exit_code == 0, half.output);
    const RunResult rest = run_lmul(fmt::format("train {} --resume -q --set max_iters=3", d / "run"));
    REQUIRE_MESSAGE(rest.exit_code == 0, rest.output);
    CHECK(logged(d / "run") == single);
  }

  TEST_CASE("a checkpoint written by two ranks resumes in one process, bit for bit") {
    if (!mpi_available()) return;
    test::TempDir d;
    const std::string c = config(d);
    REQUIRE(run_lmul(fmt::format("train {} -q", c)).exit_code == 0);
    const std::vector<std::string> straight = logged(d / "run");
    const RunResult half = mpirun("-np 2", fmt::format("train {} -q --overwrite --set max_iters=2", c));
    REQUIRE_MESSAGE(half.exit_code == 0, half.output);
    const RunResult rest = run_lmul(fmt::format("train {} --resume -q --set max_iters=4", d / "run"));
    REQUIRE_MESSAGE(rest.exit_code == 0, rest.output);
    CHECK(logged(d / "run") == straight);
  }

  TEST_CASE("mpirun errors: accumulation steps not divisible by N, ranks with another config") {
    if (!mpi_available()) return;
    test::TempDir d;
    const std::string c = config(d);
    const RunResult odd = mpirun("-np 2", fmt::format("train {} -q --set gradient_accumulation_steps=3", c));
    CHECK(odd.exit_code == 2);
    CHECK_MESSAGE(
        odd.output.find("gradient_accumulation_steps=3 is not divisible by the 2 processes") != std::string::npos,
        odd.output);
    // Two programs in one job (MPMD): rank 1 gets another learning rate.
    const RunResult differ = mpirun(
        "-np 1", fmt::format("train {} -q --overwrite : -np 1 {} train {} -q --overwrite --set learning_rate=0.5", c,
                             LMUL_BINARY, c));
    CHECK(differ.exit_code == 2);
    CHECK_MESSAGE(differ.output.find("rank 1 of mpirun has another resolved config or dataset") != std::string::npos,
                  differ.output);
    // Stochastic rounding's generator state would advance per rank: refused, naming the site.
    const RunResult stateful =
        mpirun("-np 2", fmt::format("train {} -q --overwrite --set arith.head=int:b=8,round=stochastic", c));
    CHECK(stateful.exit_code == 2);
    CHECK_MESSAGE(stateful.output.find("at lm_head keeps state across steps") != std::string::npos, stateful.output);
  }

  TEST_CASE("SIGTERM to one rank: every rank stops after the same step, rank 0 writes latest, exit 0") {
    if (!mpi_available()) return;
    test::TempDir d;
    const std::string c = config(d), run = d / "run", log = d / "log";
    // A run far longer than the test; rank 1 (the newest process of the job) gets the signal once
    // a step is logged. timeout: a run that ignored the signal fails the test instead of hanging it.
    const std::string script = fmt::format(
        "{4} timeout 120 mpirun --oversubscribe --bind-to none "
        "-np 2 {0} train {1} -q --set max_iters=100000 --set lr_decay_iters=100000 --set eval_interval=100000 "
        "> {2} 2>&1 & M=$!; until grep -q train_loss {3}/metrics.jsonl 2>/dev/null; do sleep 0.1; done; "
        "kill -TERM $(pgrep -n -f '{0} train {1}'); wait $M",
        LMUL_BINARY, c, log, run, kMpiEnv);
    const int status = std::system(script.c_str());
    const std::string out = read_file(log);
    REQUIRE_MESSAGE(WIFEXITED(status), out);
    CHECK_MESSAGE(WEXITSTATUS(status) == 0, out);
    const size_t at = out.find("stopped by SIGTERM after step ");
    REQUIRE_MESSAGE(at != std::string::npos, out);
    CHECK(out.find("stopped by SIGTERM", at + 1) == std::string::npos);  // one line: rank 0's
    CHECK(std::filesystem::exists(run + "/ckpt/latest.safetensors"));
    // One process continues from the step both ranks stopped after.
    const int64_t step = std::stoll(out.substr(at + std::string("stopped by SIGTERM after step ").size()));
    const RunResult more = run_lmul(fmt::format("train {} --resume -q --set max_iters={}", run, step + 2));
    CHECK_MESSAGE(more.exit_code == 0, more.output);
  }

  TEST_CASE(
      "mpirun -np 2 lmul sweep: the runs spread over both ranks, bit for bit as in one process; resumed, also after a "
      "killed rank") {
    if (!mpi_available()) return;
    test::TempDir d;
    const std::string s = sweep_file(d), one = d / "one", two = d / "two";
    const RunResult single = run_lmul(fmt::format("sweep {} --out {} -q", s, one));
    REQUIRE_MESSAGE(single.exit_code == 0, single.output);
    const RunResult r = mpirun("-np 2", fmt::format("sweep {} --out {} -q", s, two));
    REQUIRE_MESSAGE(r.exit_code == 0, r.output);
    INFO(r.output);
    for (const char* run : kSweepRuns) {
      CAPTURE(run);
      const std::vector<std::string> want = logged(std::filesystem::path(one) / run);
      CHECK(want.size() == 7);  // steps 0..6
      CHECK(logged(std::filesystem::path(two) / run) == want);
    }
    CHECK(count(r.output, "rank 0 | ") >= 1);  // both ranks trained runs, each run once
    CHECK(count(r.output, "rank 1 | ") >= 1);
    CHECK(count(r.output, "rank 0 | ") + count(r.output, "rank 1 | ") == 4);
    CHECK(count(r.output, "4/4 | all runs finished; comparing") == 1);  // rank 0 compares, once
    CHECK(std::filesystem::file_size(two + "/compare.md") > 50);
    CHECK(read_file(two + "/status.json").find("pending") == std::string::npos);
    for (const auto& e : std::filesystem::directory_iterator(two))  // the claims are removed
      CHECK(e.path().filename().string().rfind(".mpi-claims-", 0) == std::string::npos);

    // Resumed from the sweep dir: two runs finished, one stopped before its final evaluation (its
    // last line dropped), one before its first checkpoint; a killed launch's claims are left over.
    const std::string r2 = two + "/" + kSweepRuns[2], r3 = two + "/" + kSweepRuns[3];
    std::string text = read_file(r2 + "/metrics.jsonl");
    text.pop_back();
    write_file(r2 + "/metrics.jsonl", text.erase(text.rfind('\n') + 1));
    std::filesystem::remove_all(r3 + "/ckpt");
    std::filesystem::create_directories(two + "/.mpi-claims-0000000000000001/2");
    std::filesystem::create_directories(two + "/.mpi-claims-0000000000000001/3");
    const RunResult again = mpirun("-np 2", fmt::format("sweep {} -q", two));
    REQUIRE_MESSAGE(again.exit_code == 0, again.output);
    CHECK_MESSAGE(count(again.output, "finished earlier, skipped") == 2, again.output);
    CHECK_MESSAGE(again.output.find(std::string(kSweepRuns[2]) + ": resuming at step 6") != std::string::npos,
                  again.output);
    CHECK_MESSAGE(again.output.find(std::string(kSweepRuns[3]) + ": starting") != std::string::npos, again.output);
    for (const char* run : kSweepRuns)
      CHECK(logged(std::filesystem::path(two) / run) == logged(std::filesystem::path(one) / run));
    CHECK(!std::filesystem::exists(two + "/.mpi-claims-0000000000000001"));

    // A rank killed (SIGKILL) once both ranks have taken a run (longer runs: 300 steps, a
    // checkpoint every 50): mpirun ends the other rank (no hang), and the sweep resumed by a new
    // launch gives the bits of an uninterrupted sweep.
    const std::string longer = "--set max_iters=300 --set lr_decay_iters=300 --set eval_interval=50";
    const std::string ref = d / "ref", three = d / "three", log = d / "log";
    REQUIRE(run_lmul(fmt::format("sweep {} --out {} -q {}", s, ref, longer)).exit_code == 0);
    const std::string script = fmt::format(
        "{0} timeout 120 mpirun --oversubscribe --bind-to none -np 2 {1} sweep {2} --out {3} -q {5} > {4} 2>&1 & M=$!; "
        "until [ $(ls {3}/.mpi-claims-*/ 2>/dev/null | wc -l) -ge 2 ]; do sleep 0.05; done; "
        "kill -KILL $(pgrep -n -f '{1} sweep {2}'); wait $M",
        kMpiEnv, LMUL_BINARY, s, three, log, longer);
    const int status = std::system(script.c_str());
    const std::string killed = read_file(log);
    REQUIRE_MESSAGE(WIFEXITED(status), killed);
    CHECK_MESSAGE(WEXITSTATUS(status) != 0, killed);
    CHECK_MESSAGE(WEXITSTATUS(status) != 124, killed);  // ended by mpirun, not by the timeout
    CHECK_MESSAGE(killed.find("exited on signal 9") != std::string::npos, killed);
    const RunResult resumed = mpirun("-np 2", fmt::format("sweep {} -q", three));
    REQUIRE_MESSAGE(resumed.exit_code == 0, resumed.output);
    for (const char* run : kSweepRuns)
      CHECK(logged(std::filesystem::path(three) / run) == logged(std::filesystem::path(ref) / run));
  }

  TEST_CASE("mpirun -np 2 lmul sweep: a failing run is recorded, the other rank goes on, exit 1; disagreeing ranks") {
    if (!mpi_available()) return;
    test::TempDir d;
    const std::string s = sweep_file(d), out = d / "sw";
    std::filesystem::create_directories(out + "/linear=exact.seed1/metrics.jsonl");  // a directory: cannot be written
    const RunResult r = mpirun("-np 2", fmt::format("sweep {} --out {} -q", s, out));
    INFO(r.output);
    CHECK(r.exit_code == 1);
    CHECK(r.output.find("sweep: linear=exact.seed1 failed: ") != std::string::npos);
    CHECK(r.output.find("lmul: failed: sweep: 1 of 4 runs failed (linear=exact.seed1)") != std::string::npos);
    const std::string status = read_file(out + "/status.json");
    CHECK(count(status, "\"finished\"") == 3);
    CHECK(count(status, "\"failed\"") == 1);
    for (const char* run : {"linear=lmul_m=4.seed1", "linear=exact.seed2", "linear=lmul_m=4.seed2"})
      CHECK_MESSAGE(logged(std::filesystem::path(out) / run).size() == 7, run);
    CHECK(std::filesystem::exists(out + "/compare.md"));

    // Rank 1 plans another sweep (another max_iters): refused before any run starts, naming the rank.
    const RunResult differ =
        mpirun("-np 1", fmt::format("sweep {0} --out {1} -q : -np 1 {2} sweep {0} --out {1} -q --set max_iters=5", s,
                                    d / "sw2", LMUL_BINARY));
    CHECK(differ.exit_code == 2);
    CHECK_MESSAGE(differ.output.find("rank 1 of mpirun has another sweep") != std::string::npos, differ.output);
    CHECK(!std::filesystem::exists(d / "sw2/sweep.toml"));
  }
}
