// Data-parallel training under mpirun (train/distributed.h), two processes on this machine: the
// bit-exactness the README states, a checkpoint from two ranks resumed by one, the TCP transport,
// the errors (accumulation steps not divisible by N, ranks that disagree on the config, stateful
// arithmetic) and SIGTERM.
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

RunResult mpirun(const std::string& mpirun_args, const std::string& lmul_args) {
  return run_shell(fmt::format("{} mpirun --oversubscribe --bind-to none {} {} {} < /dev/null 2>&1", kMpiEnv,
                               mpirun_args, LMUL_BINARY, lmul_args));
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
}
