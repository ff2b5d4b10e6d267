// Resuming a run: bit-identical continuation, a clean metrics.jsonl, shape keys refused, other
// changes logged.
#include <doctest/doctest.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "train/checkpoint.h"
#include "train/config.h"
#include "train/trainer.h"
#include "core/error.h"
#include "test_helpers.h"

using namespace lmul;
using namespace lmul::testing;
using lmul::test::TempDir;

namespace {

int count_headers(const std::string& metrics) {
  std::istringstream in(read_file(metrics));
  std::string line;
  int n = 0;
  while (std::getline(in, line)) n += nlohmann::json::parse(line).contains("config");
  return n;
}

train::TrainResult run(const TempDir& d, const std::string& name, std::vector<std::string> sets,
                       std::vector<std::string> allow_changes = {}) {
  write_file(d / "c.toml", "");
  std::vector<std::string> base = {"dataset=" + shakespeare_char_dir(),
                                   "out_dir=" + (d / name),
                                   "n_layer=2",
                                   "n_head=2",
                                   "n_embd=16",
                                   "block_size=16",
                                   "batch_size=3",
                                   "max_iters=24",
                                   "eval_interval=8",
                                   "eval_iters=2",
                                   "log_interval=1",
                                   "warmup_iters=4",
                                   "lr_decay_iters=24",
                                   "learning_rate=3e-3",
                                   "threads=2"};
  base.insert(base.end(), sets.begin(), sets.end());
  train::TrainConfig c = train::load_config(d / "c.toml", base);
  train::TrainOptions o(false, true);
  o.allow_changes = std::move(allow_changes);
  return train::train(c, o);
}

// Runs 24 steps straight, and k steps then a resume to 24, with the same extra keys; the step
// lines must be equal as text.
void check_resume_bit_identical(std::vector<std::string> extra, int64_t k) {
  TempDir d;
  run(d, "straight", extra);
  auto first = extra;
  first.push_back("max_iters=" + std::to_string(k));
  run(d, "resumed", first);
  auto second = extra;
  second.push_back("init_from=resume");
  run(d, "resumed", second);
  const auto a = step_lines(d / "straight/metrics.jsonl"), b = step_lines(d / "resumed/metrics.jsonl");
  REQUIRE(a.size() == 25);  // steps 0..24
  CHECK(a == b);
  CHECK(count_headers(d / "resumed/metrics.jsonl") == 2);
}
}  // namespace

TEST_SUITE("ckpt") {
  TEST_CASE("resuming at a non-eval step continues bit for bit (exact, dropout 0)") {
    check_resume_bit_identical({"dropout=0"}, 11);
  }

  TEST_CASE("resuming at an eval step continues bit for bit with dropout and backward=exact") {
    check_resume_bit_identical({"dropout=0.2", "arith.backward=exact", "bias=true"}, 16);
  }

  TEST_CASE("resuming with gradient accumulation and checkpoint_interval continues bit for bit") {
    check_resume_bit_identical({"dropout=0.1", "gradient_accumulation_steps=2", "checkpoint_interval=3"}, 7);
  }

  TEST_CASE(
      "resuming continues bit for bit with stateful quantised arithmetics (fp8 delayed scaling, stochastic rounding)") {
    // fp8 delayed scaling keeps an amax history per site and pass; stochastic rounding keeps a
    // generator counter: both live in the checkpoint's arith_state tensors.
    check_resume_bit_identical(
        {"dropout=0.1", "arith.linear=fp8:hybrid,scale=delayed,history=4",
         "arith.attention=float:e=5,m=2,round=stochastic", "arith.head=int:b=8,round=stochastic"},
        13);
  }

  TEST_CASE("resuming continues bit for bit with L-Mul, power-of-two and ternary arithmetics") {
    check_resume_bit_identical({"arith.linear=lmul:m=3", "arith.head=pot:b=5", "arith.attention=exact",
                                "arith.embedding=ternary", "arith.backward=exact"},
                               9);
  }

  TEST_CASE("resuming the generated multiplication task continues bit for bit (its loader state is 2 words)") {
    check_resume_bit_identical({"dataset=multiply:digits=2", "block_size=9", "activation=relu", "dropout=0"}, 11);
  }

  TEST_CASE("resuming a MatMul-free run with ternary BitLinear continues bit for bit") {
    // n_head=12 puts back the default the base list changed: a MatMul-free config takes no GPT keys.
    check_resume_bit_identical({"model=matmulfree", "n_head=12", "arith.linear=ternary", "arith.head=ternary"}, 11);
  }

  TEST_CASE("resuming a GPT checkpoint as a MatMul-free model is refused in one line") {
    TempDir d;
    run(d, "r", {"max_iters=4"});
    std::string msg;
    try {
      run(d, "r", {"init_from=resume", "model=matmulfree", "n_head=12"});
    } catch (const Error& e) {
      msg = e.what();
    }
    CHECK(msg.find("cannot resume with model=\"matmulfree\": the checkpoint was trained with model=\"gpt\"") !=
          std::string::npos);
    CHECK(msg.find('\n') == std::string::npos);
  }

  TEST_CASE("resume refuses a changed model-shape key, naming the key, old and new value") {
    TempDir d;
    run(d, "r", {"max_iters=4"});
    for (auto [set, text] : {std::pair{"n_embd=32", "n_embd=32"}, std::pair{"n_layer=1", "n_layer=1"},
                             std::pair{"bias=true", "bias=true"}, std::pair{"block_size=8", "block_size=8"}}) {
      CAPTURE(set);
      std::string msg;
      try {
        run(d, "r", {"init_from=resume", set});
      } catch (const Error& e) {
        msg = e.what();
      }
      CHECK(msg.find(std::string("cannot resume with ") + text) != std::string::npos);
      CHECK(msg.find("trained with") != std::string::npos);
    }
  }

  TEST_CASE("resume refuses a changed arithmetic or schedule key unless allowed by name") {
    TempDir d;
    run(d, "r", {"max_iters=4", "arith.linear=lmul:m=4"});
    for (auto [set, key] : {std::pair{"arith.linear=exact", "arith.linear"}, std::pair{"min_lr=1e-5", "min_lr"},
                            std::pair{"seed=9", "seed"}}) {
      CAPTURE(set);
      std::string msg;
      try {
        run(d, "r", {"init_from=resume", "max_iters=8", "arith.linear=lmul:m=4", set});
      } catch (const Error& e) {
        msg = e.what();
      }
      CHECK(msg.find(fmt::format("cannot resume with {}=", key)) != std::string::npos);
      CHECK(msg.find(fmt::format("--allow-change {}", key)) != std::string::npos);
      CHECK(msg.find("lmul train " + (d / "r") + " --resume") != std::string::npos);
    }
    CHECK(step_lines(d / "r/metrics.jsonl").size() == 5);  // nothing was trained under a mixed arithmetic
    // allowed by name, the change happens and is logged
    run(d, "r", {"init_from=resume", "max_iters=6", "arith.linear=exact"}, {"arith.linear"});
    CHECK(read_file(d / "r/metrics.jsonl").find("\"arith.linear\":[\"lmul:m=4,variant=bits,round=rne\",\"exact\"]") !=
          std::string::npos);
  }

  TEST_CASE("resume allows max_iters, eval and (allowed) schedule changes and logs them in the header") {
    TempDir d;
    run(d, "r", {"max_iters=4"});
    run(d, "r", {"init_from=resume", "max_iters=8", "eval_iters=3", "min_lr=1e-5"}, {"min_lr"});
    std::istringstream in(read_file(d / "r/metrics.jsonl"));
    std::string line;
    nlohmann::json last_header;
    while (std::getline(in, line)) {
      auto j = nlohmann::json::parse(line);
      if (j.contains("config")) last_header = j;
    }
    REQUIRE(last_header.contains("resume_changes"));
    CHECK(last_header["resumed_at"] == 4);
    const auto& ch = last_header["resume_changes"];
    CHECK(ch["max_iters"] == nlohmann::json::array({4, 8}));
    CHECK(ch["eval_iters"] == nlohmann::json::array({2, 3}));
    CHECK(ch.contains("min_lr"));
    CHECK(!ch.contains("n_layer"));
    CHECK(step_lines(d / "r/metrics.jsonl").size() == 9);  // steps 0..8, each once
  }

  TEST_CASE("latest holds the final step; best is written on a new best val loss") {
    TempDir d;
    run(d, "r", {"max_iters=16", "always_save_checkpoint=false"});
    auto latest = train::read_checkpoint_meta(d / "r/ckpt/latest.safetensors");
    CHECK(latest.state.iter == 16);
    REQUIRE(std::filesystem::exists(d / "r/ckpt/best.safetensors"));
    auto best = train::read_checkpoint_meta(d / "r/ckpt/best.safetensors");
    CHECK(best.state.iter % 8 == 0);
    CHECK(best.state.iter > 0);
    CHECK(best.state.best_val_loss == doctest::Approx(latest.state.best_val_loss));
  }
}
