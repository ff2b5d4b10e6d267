// lmul prepare multiply: the generated multiplication task's samples as text, for inspection
// (training draws them itself; no data files are needed).
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "apps/commands.h"
#include "core/error.h"
#include "train/multiply_task.h"

namespace lmul::apps {
namespace {

constexpr const char* kHelp = R"(
Writes the first K training samples of `dataset = "multiply:digits=N,..."` in a run with
seed S, one per line, exactly the characters of the token sequence (digits, '*', '='):
x and y zero-padded to N digits, the product zero-padded to 2N digits and written units first
unless --no-reverse. For N=2, 12*34=408 is `12*34=8040` (`12*34=0408` with --no-reverse).)";

}  // namespace

void add_prepare_multiply(CLI::App& prepare) {
  struct Args {
    int digits = 0;
    int64_t samples = 0, seed = 1337;
    bool no_reverse = false;
    double simple = 0.45;
    std::string out;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = prepare.add_subcommand("multiply", "Samples of the n-digit multiplication task as text lines");
  cmd->footer(kHelp);
  cmd->add_option("--digits", a->digits, "N: digits of each factor (1..9)")->required();
  cmd->add_option("--samples", a->samples, "K: samples to write")->required()->check(CLI::NonNegativeNumber);
  cmd->add_option("--seed", a->seed, "The run seed whose training samples are written")->capture_default_str();
  cmd->add_flag("--no-reverse", a->no_reverse, "Write the product most significant digit first");
  cmd->add_option("--simple-fraction", a->simple, "F: fraction of rows whose second factor has one nonzero digit")
      ->capture_default_str();
  cmd->add_option("--out", a->out, "Output text file")->required();
  cmd->callback([a] {
    const std::string spec =
        fmt::format("multiply:digits={},reverse={},simple={}", a->digits, a->no_reverse ? "false" : "true", a->simple);
    const train::MultiplyBatches source(train::parse_multiply_task(spec), a->seed);
    const train::MultiplyTask& task = source.task();
    std::ofstream f(a->out, std::ios::binary);
    if (!f) throw Error("--out {}: cannot open for writing (does its directory exist?)", a->out);
    const uint64_t seed = source.state().seed;
    std::vector<int32_t> tokens(static_cast<size_t>(task.sample_tokens()));
    std::string line;
    for (int64_t i = 0; i < a->samples; ++i) {
      task.sample(seed, static_cast<uint64_t>(i), task.simple, tokens.data());
      line.clear();
      for (int32_t t : tokens)
        line += t == train::MultiplyTask::kTimes    ? '*'
                : t == train::MultiplyTask::kEquals ? '='
                                                    : static_cast<char>('0' + t);
      line += '\n';
      f << line;
    }
    f.close();
    if (!f) throw Error("--out {}: write failed (disk full?)", a->out);
    fmt::print("{} samples of {} ({} tokens each) -> {}\n", a->samples, spec, task.sample_tokens(), a->out);
  });
}

}  // namespace lmul::apps
