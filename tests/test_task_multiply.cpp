// The generated n-digit multiplication task: samples checked against an independent computation
// (64-bit integers and string formatting), the loss mask, determinism and resume, the held-out
// set, the errors, `lmul prepare multiply`, and a tiny training run.
#include <doctest/doctest.h>

#include <cmath>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "train/answer_accuracy.h"
#include "train/config.h"
#include "train/multiply_task.h"
#include "train/trainer.h"
#include "test_helpers.h"

using namespace lmul;
using namespace lmul::testing;
using lmul::test::TempDir;
using train::Batch;
using train::MultiplyBatches;
using train::MultiplyTask;

namespace {
// Row b of a batch as the text of its whole sample: x's T tokens and the last target.
std::string row_text(const Batch& batch, int64_t T, int64_t b, int32_t last) {
  std::string s;
  for (int64_t t = 0; t < T; ++t) {
    const int32_t id = batch.x[static_cast<size_t>(b * T + t)];
    s += id == 10 ? '*' : id == 11 ? '=' : static_cast<char>('0' + id);
  }
  return s + static_cast<char>('0' + last);
}

// Checks "x*y=z" independently of the generator: parse x and y, multiply in 64 bits, format the
// product zero-padded to 2n digits, reverse it when asked. Returns whether y is a simple factor
// (at most one nonzero digit).
bool check_sample(const std::string& s, int n, bool reverse) {
  REQUIRE(s.size() == static_cast<size_t>(4 * n + 2));
  REQUIRE(s[static_cast<size_t>(n)] == '*');
  REQUIRE(s[static_cast<size_t>(2 * n + 1)] == '=');
  const std::string xs = s.substr(0, static_cast<size_t>(n)),
                    ys = s.substr(static_cast<size_t>(n + 1), static_cast<size_t>(n));
  const unsigned long long x = std::stoull(xs), y = std::stoull(ys);
  std::string z = fmt::format("{:0{}}", x * y, 2 * n);
  if (reverse) z = std::string(z.rbegin(), z.rend());
  CHECK(s.substr(static_cast<size_t>(2 * n + 2)) == z);
  int nonzero = 0;
  for (char c : ys) nonzero += c != '0';
  return nonzero <= 1;
}

MultiplyTask task_of(const std::string& spec) { return train::parse_multiply_task(spec); }
}  // namespace

TEST_SUITE("task.multiply") {
  TEST_CASE("training samples are correct products in the stated format, every digit count 1..8") {
    for (bool reverse : {true, false})
      for (int n = 1; n <= 8; ++n) {
        CAPTURE(n);
        CAPTURE(reverse);
        MultiplyBatches src(task_of(fmt::format("multiply:digits={},reverse={}", n, reverse ? "true" : "false")), 5);
        const int64_t T = 4 * n + 1, B = 500;
        Batch batch;
        std::set<std::string> distinct;
        int64_t leading_zero = 0;
        for (int round = 0; round < 4; ++round) {  // 2,000 samples per (n, order)
          src.next_train(B, T, batch);
          REQUIRE(batch.x.size() == static_cast<size_t>(B * T));
          REQUIRE(batch.y.size() == static_cast<size_t>(B * T));
          for (int64_t b = 0; b < B; ++b) {
            const std::string s = row_text(batch, T, b, batch.y[static_cast<size_t>(b * T + T - 1)]);
            check_sample(s, n, reverse);
            distinct.insert(s);
            leading_zero += s[0] == '0';
          }
        }
        if (n >= 3) CHECK(distinct.size() > 1500);  // not one sample repeated
        if (n >= 2) CHECK(leading_zero > 100);      // x's leading digit is uniform 0-9: zeros occur (≈ 10 %)
      }
  }

  TEST_CASE("the issue's example and the 4n+2 token layout") {
    // 12*34 = 408 → 0408, units first 8040; the layout is exactly the characters of the tokens.
    CHECK(check_sample("12*34=8040", 2, true) == false);
    CHECK(check_sample("12*34=0408", 2, false) == false);
    CHECK(task_of("multiply:digits=5").sample_tokens() == 22);
    CHECK(task_of("multiply:digits=5").block_size() == 21);
  }

  TEST_CASE("about 45 % of training rows have a simple second factor; simple=0 and the held-out set have none") {
    auto simple_share = [](const MultiplyTask& t, uint64_t seed, double fraction) {
      std::vector<int32_t> tok(static_cast<size_t>(t.sample_tokens()));
      int simple = 0;
      const int N = 20000;
      for (int i = 0; i < N; ++i) {
        t.sample(seed, static_cast<uint64_t>(i), fraction, tok.data());
        int nonzero = 0;
        for (int d = 0; d < t.digits; ++d) nonzero += tok[static_cast<size_t>(t.digits + 1 + d)] != 0;
        simple += nonzero <= 1;
      }
      return static_cast<double>(simple) / N;
    };
    const MultiplyTask t = task_of("multiply:digits=5");
    CHECK(t.simple == 0.45);
    // A uniform 5-digit y has at most one nonzero digit with probability 4.6e-4: the share is the fraction.
    const double s = simple_share(t, 3, t.simple);
    MESSAGE(fmt::format("simple share {:.4f}", s));
    CHECK(std::fabs(s - 0.45) < 0.015);
    CHECK(std::fabs(simple_share(task_of("multiply:digits=5,simple=0.2"), 3, 0.2) - 0.2) < 0.015);
    CHECK(simple_share(t, 3, 0.0) < 0.002);
    // The held-out set draws no simple rows.
    MultiplyBatches src(t, 1);
    auto val = src.evaluation(data::Split::val, 1);
    Batch b;
    val->next(10000, 21, b);
    int simple = 0;
    for (int64_t r = 0; r < 10000; ++r) {
      int nonzero = 0;
      for (int d = 0; d < 5; ++d) nonzero += b.x[static_cast<size_t>(r * 21 + 6 + d)] != 0;
      simple += nonzero <= 1;
    }
    CHECK(simple < 20);
  }

  TEST_CASE("the loss mask covers exactly the 2n answer targets") {
    for (int n : {1, 3, 8}) {
      MultiplyBatches src(task_of(fmt::format("multiply:digits={}", n)), 2);
      const int64_t T = 4 * n + 1, B = 64;
      Batch batch;
      src.next_train(B, T, batch);
      for (int64_t b = 0; b < B; ++b) {
        int answer_targets = 0;
        for (int64_t t = 0; t < T; ++t) {
          const int32_t y = batch.y[static_cast<size_t>(b * T + t)];
          // Position t predicts token t+1; the answer digits are tokens 2n+2 .. 4n+1.
          const bool answer = t + 1 >= 2 * n + 2;
          if (answer) {
            CHECK(y >= 0);
            CHECK(y <= 9);
            ++answer_targets;
            if (t + 1 < T) CHECK(y == batch.x[static_cast<size_t>(b * T + t + 1)]);  // y is x shifted
          } else {
            CHECK(y == -1);
          }
        }
        CHECK(answer_targets == 2 * n);
      }
    }
  }

  TEST_CASE("samples are a pure function of (seed, draw): determinism and state()/set_state() resume") {
    const MultiplyTask t = task_of("multiply:digits=4");
    const int64_t T = t.block_size();
    MultiplyBatches a(t, 7), b(t, 7), other(t, 8);
    Batch ba, bb, bo;
    a.next_train(16, T, ba);
    b.next_train(16, T, bb);
    other.next_train(16, T, bo);
    CHECK(ba.x == bb.x);
    CHECK(ba.y == bb.y);
    CHECK(ba.x != bo.x);
    CHECK(a.state().counter == 16);
    // Resume: a fresh source set to a's state continues exactly as a does.
    const auto saved = a.state();
    MultiplyBatches resumed(t, 999);
    resumed.set_state(saved);
    for (int step = 0; step < 5; ++step) {
      a.next_train(8, T, ba);
      resumed.next_train(8, T, bb);
      CHECK(ba.x == bb.x);
      CHECK(ba.y == bb.y);
    }
    CHECK(a.state().seed == resumed.state().seed);
    CHECK(a.state().counter == resumed.state().counter);
    // Batch boundaries do not matter: 2 x 8 rows == 1 x 16 rows.
    MultiplyBatches c(t, 7), d(t, 7);
    Batch c1, c2, d1;
    c.next_train(8, T, c1);
    c.next_train(8, T, c2);
    d.next_train(16, T, d1);
    c1.x.insert(c1.x.end(), c2.x.begin(), c2.x.end());
    CHECK(c1.x == d1.x);
  }

  TEST_CASE("the held-out set is fixed, cycles after 10,000 samples, and is not the training stream") {
    const MultiplyTask t = task_of("multiply:digits=3");
    const int64_t T = t.block_size();
    MultiplyBatches run1(t, 1), run2(t, 2);
    CHECK(run1.state().seed != MultiplyTask::kHeldOutSeed);
    CHECK(run1.state().seed != run2.state().seed);
    Batch v1, v2, tr;
    run1.evaluation(data::Split::val, 1)->next(MultiplyTask::kHeldOutSamples, T, v1);
    run2.evaluation(data::Split::val, 5)->next(MultiplyTask::kHeldOutSamples, T, v2);
    CHECK(v1.x == v2.x);  // the same set whatever the run seed or the evaluation seed
    // The stream cycles: sample 10,000 is sample 0.
    auto stream = run1.evaluation(data::Split::val, 1);
    Batch first, rest, wrap;
    stream->next(1, T, first);
    stream->next(MultiplyTask::kHeldOutSamples - 1, T, rest);
    stream->next(1, T, wrap);
    CHECK(first.x == wrap.x);
    // Training rows differ from the held-out rows (different generators).
    run1.next_train(200, T, tr);
    CHECK(std::vector<int32_t>(tr.x.begin(), tr.x.begin() + 200 * T) !=
          std::vector<int32_t>(v1.x.begin(), v1.x.begin() + 200 * T));
    // The train split's evaluation stream: the same batches at every call with the same seed.
    Batch e1, e2;
    run1.evaluation(data::Split::train, 3)->next(32, T, e1);
    run1.evaluation(data::Split::train, 3)->next(32, T, e2);
    CHECK(e1.x == e2.x);
  }

  TEST_CASE("bad task settings get one-line errors naming the spec and the fix") {
    auto err = [](const std::string& spec) {
      try {
        train::parse_multiply_task(spec);
      } catch (const Error& e) {
        return std::string(e.what());
      }
      return std::string("no error");
    };
    for (const auto& [spec, needle] : std::vector<std::pair<std::string, std::string>>{
             {"multiply:digits=0", "allowed 1..9"},
             {"multiply:digits=-2", "allowed 1..9"},
             {"multiply:digits=10", "allowed 1..9"},
             {"multiply:digits=x", "allowed 1..9"},
             {"multiply:reverse=true", "digits is required"},
             {"multiply:digits=3,reverse=yes", "reverse=true or reverse=false"},
             {"multiply:digits=3,simple=1.5", "simple=1.5"},
             {"multiply:digits=3,carry=1", "unknown option 'carry'"},
             {"multiply:digits=3,5", "no value"},
             {"add:digits=3", "unknown task 'add'"}}) {
      CAPTURE(spec);
      const std::string e = err(spec);
      CHECK(e.find(needle) != std::string::npos);
      CHECK(e.find(spec) != std::string::npos);
      CHECK(e.find('\n') == std::string::npos);
    }
    MultiplyBatches src(task_of("multiply:digits=5"), 1);
    CHECK_THROWS_WITH_AS(src.check_block_size(64, "c.toml"),
                         doctest::Contains("c.toml: block_size=64 does not fit dataset multiply:digits=5"), Error);
    CHECK_THROWS_WITH_AS(src.check_block_size(20, "c.toml"), doctest::Contains("block_size = 4*digits+1 = 21"), Error);
    CHECK_NOTHROW(src.check_block_size(21, "c.toml"));
    CHECK(train::is_task_spec("multiply:digits=2"));
    CHECK(!train::is_task_spec("datasets/shakespeare_char"));
    CHECK(!train::is_task_spec("./a:b"));
  }

  TEST_CASE("answer accuracy on hand-made predictions: whole rows and per answer position") {
    // B=3 rows of T=5; answer positions (y >= 0) are the last 3 of each row.
    const std::vector<int32_t> y = {-1, -1, 4, 0, 8, -1, -1, 1, 2, 3, -1, -1, 9, 9, 9};
    const std::vector<int32_t> p = {7, 7, 4, 0, 8, 5, 5, 1, 0, 3, 0, 0, 0, 9, 0};
    const std::vector<int32_t> x = {1, 2, 3, 4, 0, 5, 6, 7, 1, 2, 8, 8, 8, 9, 9};
    train::AnswerAccuracy acc;
    train::score_answers(p, x, y, 3, 5, acc, /*show=*/2);
    CHECK(acc.rows == 3);
    CHECK(acc.rows_right == 1);  // only row 0 (predictions at masked positions do not count)
    REQUIRE(acc.position_right.size() == 3);
    CHECK(acc.position_right[0] == 2);
    CHECK(acc.position_right[1] == 2);
    CHECK(acc.position_right[2] == 2);
    CHECK(acc.whole() == doctest::Approx(1.0 / 3));
    CHECK(acc.position(1) == doctest::Approx(2.0 / 3));
    // The first two rows are kept for showing: the prompt runs up to the first answer's input.
    REQUIRE(acc.shown.size() == 2);
    CHECK(acc.shown[0].prompt == std::vector<int32_t>{1, 2, 3});
    CHECK(acc.shown[0].predicted == std::vector<int32_t>{4, 0, 8});
    CHECK(acc.shown[0].right());
    CHECK(acc.shown[1].prompt == std::vector<int32_t>{5, 6, 7});
    CHECK(acc.shown[1].predicted == std::vector<int32_t>{1, 0, 3});
    CHECK(acc.shown[1].expected == std::vector<int32_t>{1, 2, 3});
    CHECK(!acc.shown[1].right());
    const std::vector<int32_t> y2 = {-1, -1, -1, 0, 8};  // 2 answer positions: another task
    CHECK_THROWS_AS(train::score_answers(p, x, y2, 1, 5, acc), Error);
  }

  TEST_CASE("lmul prepare multiply writes the samples as text lines") {
    TempDir d;
    auto r = run_lmul("prepare multiply --digits 3 --samples 3000 --seed 4 --out " + (d / "m.txt"));
    REQUIRE(r.exit_code == 0);
    std::istringstream in(read_file(d / "m.txt"));
    std::string line;
    int lines = 0, simple = 0;
    while (std::getline(in, line)) {
      simple += check_sample(line, 3, true);
      ++lines;
    }
    CHECK(lines == 3000);
    CHECK(simple > 1200);  // 45 % of 3000 (+ ~3 % of uniform 3-digit y)
    CHECK(simple < 1600);
    // --no-reverse and --simple-fraction 0; the same seed gives the same factors.
    r = run_lmul("prepare multiply --digits 3 --samples 3000 --seed 4 --no-reverse --simple-fraction 0 --out " +
                 (d / "n.txt"));
    REQUIRE(r.exit_code == 0);
    std::istringstream in2(read_file(d / "n.txt"));
    lines = simple = 0;
    while (std::getline(in2, line)) {
      simple += check_sample(line, 3, false);
      ++lines;
    }
    CHECK(lines == 3000);
    CHECK(simple < 150);
    r = run_lmul("prepare multiply --digits 0 --samples 3 --out " + (d / "x.txt"));
    CHECK(r.exit_code == 2);
    CHECK(r.output.find("digits=0 is out of range (allowed 1..9)") != std::string::npos);
  }

  TEST_CASE("a tiny training run on multiply:digits=2 logs finite losses and resolves vocab 12") {
    TempDir d;
    write_file(d / "c.toml", "");
    train::TrainConfig c = train::load_config(
        d / "c.toml",
        {"dataset=multiply:digits=2", "out_dir=" + (d / "run"), "n_layer=1", "n_head=2", "n_embd=16", "block_size=9",
         "batch_size=8", "max_iters=6", "eval_interval=3", "eval_iters=2", "log_interval=1", "warmup_iters=1",
         "lr_decay_iters=6", "learning_rate=1e-3", "dropout=0", "activation=relu", "threads=1"});
    const auto r = train::train(c, {false, true});
    CHECK(std::isfinite(r.final_val_loss));
    CHECK(std::isfinite(r.final_train_loss));
    CHECK(r.final_val_loss > 0);
    CHECK(r.final_val_loss < 3.0);  // ln 12 ≈ 2.48 at init: only the 4 answer digits count
    CHECK(r.iters == 6);
    std::istringstream in(read_file(d / "run/metrics.jsonl"));
    std::string line;
    std::getline(in, line);  // header
    int losses = 0, accuracies = 0;
    while (std::getline(in, line)) {
      auto j = nlohmann::json::parse(line);
      if (j.contains("train_loss")) {
        CHECK(std::isfinite(j["train_loss"].get<double>()));
        ++losses;
      }
      CHECK(j.contains("val_loss") == j.contains("val_accuracy"));  // every evaluation scores the answers
      if (j.contains("val_accuracy")) {
        CHECK(j["val_accuracy"].get<double>() >= 0.0);
        CHECK(j["val_accuracy"].get<double>() <= 1.0);
        ++accuracies;
      }
    }
    CHECK(losses >= 6);
    CHECK(accuracies == 3);  // steps 0, 3, 6
    // activation=relu reaches the MLP: the same run with GELU gives other losses.
    train::TrainConfig g = train::load_config(
        d / "c.toml",
        {"dataset=multiply:digits=2", "out_dir=" + (d / "gelu"), "n_layer=1", "n_head=2", "n_embd=16", "block_size=9",
         "batch_size=8", "max_iters=6", "eval_interval=3", "eval_iters=2", "log_interval=1", "warmup_iters=1",
         "lr_decay_iters=6", "learning_rate=1e-3", "dropout=0", "activation=gelu", "threads=1"});
    CHECK(train::train(g, {false, true}).final_val_loss != r.final_val_loss);
    CHECK_THROWS_WITH_AS(train::load_config(d / "c.toml", {"activation=swish"}),
                         doctest::Contains("activation='swish' is not allowed (choose gelu|relu)"), Error);
    // lmul eval on the task run prints whole-number and per-digit-place accuracy: over the whole
    // held-out set by default, over --iters batches when asked.
    auto e = run_lmul("eval " + (d / "run") + " --json");
    REQUIRE(e.exit_code == 0);
    auto j = nlohmann::json::parse(e.output.substr(e.output.find('{')));
    REQUIRE(j.contains("accuracy"));
    CHECK(j["accuracy"]["samples"] == MultiplyTask::kHeldOutSamples);
    e = run_lmul("eval " + (d / "run") + " --json --iters 2");
    REQUIRE(e.exit_code == 0);
    j = nlohmann::json::parse(e.output.substr(e.output.find('{')));
    CHECK(j["accuracy"]["samples"] == 16);  // 2 batches of 8
    CHECK(j["accuracy"]["digit_accuracy"].size() == 4);
    for (const auto& p : j["accuracy"]["digit_accuracy"])
      CHECK(p.get<double>() >= j["accuracy"]["whole_accuracy"].get<double>());
    // --show K: K held-out examples "x*y= → predicted (true z)", products in normal digit order.
    e = run_lmul("eval " + (d / "run") + " --show 3");
    REQUIRE(e.exit_code == 0);
    std::istringstream shown(e.output);
    int examples = 0;
    while (std::getline(shown, line)) {
      const size_t arrow = line.find(" → ");
      if (arrow == std::string::npos) continue;
      ++examples;
      const std::string prompt = line.substr(2, arrow - 2);  // "  12*34="
      REQUIRE(prompt.size() == 6);
      const unsigned long long x = std::stoull(prompt.substr(0, 2)), y = std::stoull(prompt.substr(3, 2));
      const std::string got = line.substr(arrow + std::string(" → ").size(), 4);
      CHECK(line.find("(true " + fmt::format("{:04}", x * y) + ")") != std::string::npos);
      CHECK(line.find(got == fmt::format("{:04}", x * y) ? "right" : "WRONG") != std::string::npos);
    }
    CHECK(examples == 3);
    // lmul sample continues a task prompt with the 2n answer digits (greedy by default) ...
    e = run_lmul("sample " + (d / "run") + " --prompt 12*34=");
    REQUIRE(e.exit_code == 0);
    const size_t at = e.output.find("12*34=");
    REQUIRE(at != std::string::npos);
    const std::string answer = e.output.substr(at + 6, e.output.find('\n', at) - at - 6);
    CHECK(answer.size() == 4);
    CHECK(answer.find_first_not_of("0123456789*=") == std::string::npos);
    // ... and needs a prompt of the task's characters.
    e = run_lmul("sample " + (d / "run"));
    CHECK(e.exit_code == 2);
    CHECK(e.output.find("give a prompt of the task, e.g. --prompt \"11*22=\"") != std::string::npos);
    e = run_lmul("sample " + (d / "run") + " --prompt 1x*34=");
    CHECK(e.exit_code == 2);
    CHECK(e.output.find("\"x\"") != std::string::npos);
    // lmul sweep trains a task config under several arithmetics and compares them by accuracy.
    write_file(d / "task.toml",
               "dataset = \"multiply:digits=2\"\nout_dir = \"" + (d / "unused") +
                   "\"\nn_layer = 1\nn_head = 2\nn_embd = 16\nblock_size = 9\nbatch_size = 8\nmax_iters = 4\n"
                   "eval_interval = 2\neval_iters = 1\nwarmup_iters = 1\nlr_decay_iters = 4\nthreads = 1\n");
    e = run_lmul("sweep " + (d / "task.toml") + " --arith exact lmul:m=4 -q --out " + (d / "sweep"));
    REQUIRE(e.exit_code == 0);
    const auto cmp = nlohmann::json::parse(read_file(d / "sweep/compare.json"));
    CHECK(cmp["metric"] == "val_accuracy");
    CHECK(cmp["better"] == "higher");
    CHECK(cmp["groups"].size() == 2);
    // A block size that is not 4n+1 is a one-line config error.
    train::TrainConfig bad =
        train::load_config(d / "c.toml", {"dataset=multiply:digits=2", "out_dir=" + (d / "bad"), "n_layer=1",
                                          "n_head=2", "n_embd=16", "block_size=16", "max_iters=1"});
    CHECK_THROWS_WITH_AS(train::train(bad, {false, true}), doctest::Contains("set block_size = 4*digits+1 = 9"), Error);
  }
}
