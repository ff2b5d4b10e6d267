// Shared test fixtures: running the lmul binary, a prepared dataset (temporary directories: temp_dir.h).
#pragma once
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/char_prepare.h"
#include "tests/temp_dir.h"

namespace lmul::testing {

inline void write_file(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}
inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

struct RunResult {
  int exit_code;
  std::string output;  // stdout and stderr together
};
// Runs a shell command line (its redirections included) and collects what it prints.
inline RunResult run_shell(const std::string& cmd) {
  FILE* p = ::popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int status = ::pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}
// Runs `lmul ARGS` through the shell (stdin from /dev/null unless given).
inline RunResult run_lmul(const std::string& args, const std::string& stdin_file = "/dev/null") {
  return run_shell(std::string(LMUL_BINARY) + " " + args + " < " + stdin_file + " 2>&1");
}

// Step lines of metrics.jsonl without timings, as text (comparing text compares bits).
inline std::vector<std::string> step_lines(const std::string& metrics) {
  std::istringstream in(read_file(metrics));
  std::string line;
  std::vector<std::string> out;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line);
    if (j.contains("config")) continue;
    std::string s;
    for (const char* k : {"step", "train_loss", "val_loss", "eval_train_loss", "grad_norm", "lr"})
      if (j.contains(k)) s += std::string(k) + "=" + j[k].dump() + " ";
    out.push_back(s);
  }
  return out;
}

inline std::string shakespeare() { return std::string(LMUL_SHARED_DIR) + "/data/tinyshakespeare/input.txt"; }

// Tiny Shakespeare prepared at char level once per test binary run.
inline const std::string& shakespeare_char_dir() {
  static test::TempDir dir;
  static bool done = false;
  if (!done) {
    data::prepare_char(shakespeare(), dir.str());
    done = true;
  }
  static std::string p = dir.str();
  return p;
}

// A 1-layer, 16-wide config on Tiny Shakespeare writing its run to d/run, for CLI tests; extra is
// appended TOML.
template <class Dir>
std::string tiny_cli_config(const Dir& d, int max_iters = 3, const std::string& extra = "") {
  write_file(d / "c.toml", "dataset = \"" + shakespeare_char_dir() + "\"\nout_dir = \"" + (d / "run") +
                               "\"\nn_layer = 1\nn_head = 2\nn_embd = 16\nblock_size = 16\nbatch_size = 2\n" +
                               "max_iters = " + std::to_string(max_iters) + "\neval_interval = 2\neval_iters = 1\n" +
                               "warmup_iters = 1\nlr_decay_iters = " + std::to_string(max_iters) + "\n" + extra);
  return d / "c.toml";
}

}  // namespace lmul::testing
