// The lmul binary from outside: exit codes and one-line errors on bad input.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>

#include "test_helpers.h"

using namespace lmul::testing;
using lmul::test::TempDir;

namespace {
// Exit code 2 and a single "lmul: error: ..." line containing `what`.
void expect_usage_error(const RunResult& r, const std::string& what) {
  INFO(r.output);
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("lmul: error: ") != std::string::npos);
  CHECK(r.output.find(what) != std::string::npos);
  CHECK(std::count(r.output.begin(), r.output.end(), '\n') == 1);
}
std::string tiny_config(const TempDir& d, const std::string& extra = "") { return tiny_cli_config(d, 3, extra); }
}  // namespace

TEST_SUITE("cli") {
  TEST_CASE("help describes the subcommands and exits 0") {
    auto r = run_lmul("--help");
    CHECK(r.exit_code == 0);
    for (const char* s : {"prepare", "train", "sample", "numerics"}) CHECK(r.output.find(s) != std::string::npos);
    CHECK(run_lmul("train --help").exit_code == 0);
    CHECK(run_lmul("sample --help").output.find("--temperature") != std::string::npos);
  }

  TEST_CASE("bare lmul and `lmul help` print the usage; an unknown option is a usage error (exit 2)") {
    for (const char* args : {"", "help"}) {
      auto r = run_lmul(args);
      CHECK(r.exit_code == 0);
      CHECK(r.output.find("Subcommands:") != std::string::npos);
    }
    auto r = run_lmul("train --frobnicate x");
    CHECK(r.exit_code == 2);
    CHECK(r.output.rfind("lmul: error: ", 0) == 0);  // CLI-parser errors in lmul's own one-line form
    CHECK(r.output.find("--frobnicate") != std::string::npos);
    CHECK(std::count(r.output.begin(), r.output.end(), '\n') == 1);
  }

  TEST_CASE("a mistyped subcommand gets the nearest name") {
    auto r = run_lmul("trian configs/x.toml");
    CHECK(r.exit_code == 2);
    CHECK(r.output.find("lmul: error: unknown subcommand 'trian' (did you mean 'train'?)") != std::string::npos);
    r = run_lmul("frobnicate");
    CHECK(r.exit_code == 2);
    CHECK(r.output.find("unknown subcommand 'frobnicate' (`lmul --help` lists them)") != std::string::npos);
  }

  TEST_CASE("prepare char: missing input names the file") {
    TempDir d;
    expect_usage_error(run_lmul("prepare char --input /nonexistent/x.txt --out " + (d / "o")), "/nonexistent/x.txt");
    write_file(d / "empty.txt", "");
    expect_usage_error(run_lmul("prepare char --input " + (d / "empty.txt") + " --out " + (d / "o")), "empty");
  }

  TEST_CASE("train: unknown key, missing data, block_size larger than the data") {
    TempDir d;
    expect_usage_error(run_lmul("train " + tiny_config(d, "n_layers = 2\n")), "unknown key 'n_layers'");
    expect_usage_error(run_lmul("train " + tiny_config(d) + " --set dataset=/nonexistent/ds"), "/nonexistent/ds");
    // a dataset whose val split is shorter than block_size
    write_file(d / "small.txt", std::string(200, 'a') + "b");
    CHECK(run_lmul("prepare char --input " + (d / "small.txt") + " --out " + (d / "small")).exit_code == 0);
    expect_usage_error(run_lmul("train " + tiny_config(d) + " --set dataset=" + (d / "small") + " --set block_size=64"),
                       "block_size=64 is too large");
    CHECK(!std::filesystem::exists(d / "run/metrics.jsonl"));  // nothing half-written
    expect_usage_error(run_lmul("train " + tiny_config(d) + " --set n_head=3"), "not divisible by n_head=3");
  }

  TEST_CASE("train refuses to overwrite an existing run, and sample reads it") {
    TempDir d;
    const std::string cfg = tiny_config(d);
    auto r = run_lmul("train -q " + cfg);
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    expect_usage_error(run_lmul("train " + cfg), "already holds a run");
    auto s = run_lmul("sample " + (d / "run") + " --max-new-tokens 20 --prompt ROMEO");
    INFO(s.output);
    CHECK(s.exit_code == 0);
    // stderr first says what is sampled and under which arithmetic; stdout is the prompt and its continuation
    CHECK(s.output.rfind("sampling ", 0) == 0);
    CHECK(s.output.find("under arith: linear=exact") != std::string::npos);
    CHECK(s.output.find("\nROMEO") != std::string::npos);
    CHECK(s.output.size() - s.output.find("\nROMEO") >= 25);
  }

  TEST_CASE("sample: a missing or unreadable run dir is a one-line error") {
    TempDir d;
    expect_usage_error(run_lmul("sample /nonexistent/run"), "/nonexistent/run");
    std::filesystem::create_directories(d / "run/ckpt");
    write_file(d / "run/ckpt/latest.safetensors", "garbage");
    write_file(d / "run/config.toml", "n_layer = 1\n");
    expect_usage_error(run_lmul("sample " + (d / "run")), "latest.safetensors");
  }
}

TEST_SUITE("cli") {
  TEST_CASE("a GPT-2 BPE run trains, samples through the same tokenizer and evaluates") {
    TempDir d;
    write_file(d / "doc.txt", read_file(shakespeare()).substr(0, 20000));
    auto p = run_lmul("prepare gpt2 --input " + (d / "doc.txt") + " --out " + (d / "ds") + " --vocab " +
                      std::string(LMUL_SHARED_DIR) + "/data/gpt2");
    INFO(p.output);
    REQUIRE(p.exit_code == 0);
    write_file(d / "c.toml", "dataset = \"" + (d / "ds") + "\"\nout_dir = \"" + (d / "run") +
                                 "\"\nn_layer = 1\nn_head = 2\nn_embd = 16\nblock_size = 16\nbatch_size = 2\n"
                                 "vocab_size = 50304\nmax_iters = 2\neval_interval = 2\neval_iters = 1\n"
                                 "warmup_iters = 1\nlr_decay_iters = 2\n");
    auto t = run_lmul("train -q " + (d / "c.toml"));
    INFO(t.output);
    REQUIRE(t.exit_code == 0);
    auto s = run_lmul("sample " + (d / "run") + " --prompt 'First Citizen:' --max-new-tokens 5");
    INFO(s.output);
    CHECK(s.exit_code == 0);
    CHECK(s.output.find("\nFirst Citizen:") != std::string::npos);
    auto e = run_lmul("eval " + (d / "run") + " --iters 1");
    INFO(e.output);
    CHECK(e.exit_code == 0);
    CHECK(e.output.find("val loss") != std::string::npos);
  }
}
