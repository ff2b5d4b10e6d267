// Bad input on every subcommand, table-driven: missing and extra arguments, wrong types, values
// out of range, nonexistent paths, directories where files are expected, empty, garbage and
// unreadable files, bad stdin. Each row must give exit code 2, exactly one line on stderr that
// starts `lmul: error:` and names the offending argument or value, nothing on stdout, and leave
// the working directory (where every path of the row lies) exactly as it was.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "test_helpers.h"

using namespace lmul::testing;
using lmul::test::TempDir;
namespace fs = std::filesystem;

namespace {

struct Row {
  std::string args;   // space-separated; {w} is the working directory
  std::string names;  // must appear in the error line ({w} substituted)
  std::string stdin_text = "";
  bool unreadable = false;  // the row reads a file nobody may read (run as nobody under root)
};

// Every row. Paths ({w}/...): cfg.toml (a valid tiny config) and run/ (its trained run), text.txt, empty.*
// (0 bytes), garbage.* (not the format), dir/ (an empty directory), missing (nothing there),
// locked.* (mode 000), metricsless/ (a dir whose metrics.jsonl is empty).
const std::vector<Row> kRows = {
    // lmul itself
    {"frobnicate", "frobnicate"},
    {"--frobnicate", "--frobnicate"},
    // prepare char
    {"prepare", "subcommand"},
    {"prepare char --input {w}/missing --out {w}/o", "{w}/missing"},
    {"prepare char --input {w}/dir --out {w}/o", "{w}/dir"},
    {"prepare char --input {w}/empty.txt --out {w}/o", "{w}/empty.txt"},
    {"prepare char --input {w}/locked.txt --out {w}/o", "{w}/locked.txt", "", true},
    {"prepare char --input {w}/text.txt --out {w}/o --val-fraction abc", "abc"},
    {"prepare char --input {w}/text.txt --out {w}/o --val-fraction 2", "val-fraction"},
    {"prepare char --input {w}/text.txt --out {w}/text.txt", "{w}/text.txt"},
    {"prepare char --input {w}/text.txt --out {w}/o extra", "extra"},
    // prepare gpt2
    {"prepare gpt2 --out {w}/o", "--input"},
    {"prepare gpt2 --input {w}/missing --out {w}/o --vocab {vocab}", "{w}/missing"},
    {"prepare gpt2 --input {w}/empty.txt --out {w}/o --vocab {vocab}", "{w}/empty.txt"},
    {"prepare gpt2 --input {w}/locked.txt --out {w}/o --vocab {vocab}", "{w}/locked.txt", "", true},
    {"prepare gpt2 --input {w}/text.txt --out {w}/o --vocab {w}/missing", "{w}/missing"},
    {"prepare gpt2 --input {w}/text.txt --out {w}/o --vocab {w}/text.txt", "{w}/text.txt"},
    {"prepare gpt2 --input {w}/text.txt --out {w}/o --workers -1", "workers"},
    {"prepare gpt2 --input {w}/text.txt --out {w}/o --text-cleanup foo", "foo"},
    {"prepare gpt2 --input {w}/text.txt --out {w}/text.txt --vocab {vocab}", "{w}/text.txt"},
    // prepare multiply
    {"prepare multiply --digits 0 --samples 3 --out {w}/m.txt", "digits"},
    {"prepare multiply --digits x --samples 3 --out {w}/m.txt", "x"},
    {"prepare multiply --digits 2 --samples 3", "--out"},
    {"prepare multiply --digits 2 --samples 3 --out {w}/dir", "{w}/dir"},
    // train
    {"train", "config"},
    {"train {w}/missing", "{w}/missing"},
    {"train {w}/dir", "{w}/dir"},
    {"train {w}/empty.toml", "dataset 'datasets/shakespeare_char'"},  // all defaults: the default dataset
    {"train {w}/garbage.toml", "{w}/garbage.toml"},
    {"train {w}/locked.toml", "{w}/locked.toml", "", true},
    {"train {w}/cfg.toml --set nosuchkey=1", "nosuchkey"},
    {"train {w}/cfg.toml --set max_iters=abc", "max_iters"},
    {"train {w}/cfg.toml --set max_iters", "max_iters"},
    {"train {w}/cfg.toml --set learning_rate=1e6", "learning_rate"},
    {"train {w}/cfg.toml --set dataset=\x85", "dataset: byte 8 (0x85) is not valid UTF-8"},
    {"train {w}/cfg.toml extra", "extra"},
    // the two architectures' keys (cfg.toml is a GPT config with n_head = 2)
    {"train {w}/cfg.toml --set model=transformer", "transformer"},
    {"train {w}/cfg.toml --set model=matmulfree", "n_head=2 is a GPT key"},
    {"train {w}/cfg.toml --set model=matmulfree --set n_head=12 --set dropout=0.1", "dropout=0.1 is a GPT key"},
    {"train {w}/cfg.toml --set use_lower_bound=false", "use_lower_bound=false is a MatMul-free key"},
    {"train {w}/cfg.toml --set intermediate_size=128", "intermediate_size=128 is a MatMul-free key"},
    {"train {w}/cfg.toml --set rms_norm_eps=1e-5", "rms_norm_eps"},
    {"train {w}/cfg.toml --set model=matmulfree --set n_head=12 --set arith.attention=fp8:e4m3",
     "arith.attention='fp8:e4m3"},
    {"train {w}/cfg.toml --set model=matmulfree --set n_head=12 --set arith.embedding=ternary", "arith.embedding"},
    {"train {w}/run --resume --set model=matmulfree --set n_head=12", "model=\"matmulfree\""},
    {"train {w}/missing --resume", "{w}/missing"},
    {"train {w}/dir --resume", "{w}/dir"},
    {"train {w}/run --resume --allow-change nosuchkey", "nosuchkey"},
    {"train {w}/cfg.toml --set arith.modules.transformer.h.0.mlp.nosuch=exact", "transformer.h.0.mlp.nosuch"},
    {"train {w}/cfg.toml --set arith.modules.*=int:b=99", "int:b=99"},
    {"train {w}/cfg.toml --set arith.modules=exact", "arith.modules"},
    // train: fine-tuning from a run (init_from = RUN_DIR) and quantisation-aware training (qat)
    {"train {w}/cfg.toml --set init_from={w}/missing", "init_from='{w}/missing'"},
    {"train {w}/cfg.toml --set init_from={w}/dir", "{w}/dir/ckpt/latest.safetensors"},
    {"train {w}/cfg.toml --set init_from={w}/garbage.safetensors", "{w}/garbage.safetensors"},
    {"train {w}/cfg.toml --set init_from={w}/run --set n_embd=32", "n_embd=32"},
    {"train {w}/cfg.toml --set qat=true", "init_from"},
    {"train {w}/cfg.toml --set qat=maybe", "qat"},
    {"train {w}/cfg.toml --set init_from={w}/run --set qat=true --set dropout=0.1", "dropout"},
    {"train {w}/cfg.toml --set init_from={w}/run --set qat=true --set arith.linear=int:b=8", "arith"},
    {"train {w}/cfg.toml --set int_weight_bits=9", "int_weight_bits=9"},
    {"train {w}/cfg.toml --set init_from={w}/run --set qat=true --set arith.modules.lm_head=int:b=8", "arith.modules"},
    {"train {w}/cfg.toml --set model=matmulfree --set n_head=12 --set init_from={w}/run --set qat=true",
     "model=\"matmulfree\""},
    // sample
    {"sample", "target"},
    {"sample {w}/missing", "{w}/missing"},
    {"sample {w}/dir", "{w}/dir"},
    {"sample {w}/empty.safetensors", "{w}/empty.safetensors"},
    {"sample {w}/garbage.safetensors", "{w}/garbage.safetensors"},
    {"sample {w}/locked.safetensors", "{w}/locked.safetensors", "", true},
    {"sample {w}/run --max-new-tokens abc", "abc"},
    {"sample {w}/run --temperature 0", "temperature"},
    {"sample {w}/run --checkpoint middle", "middle"},
    {"sample {w}/run --set arith.linear=nosuch:m=1", "nosuch"},
    {"sample {w}/run --set n_layer=3", "n_layer"},
    {"sample {w}/run --set model=matmulfree", "model"},
    {"sample {w}/run extra", "extra"},
    // eval
    {"eval", "targets"},
    {"eval {w}/missing", "{w}/missing"},
    {"eval {w}/dir", "{w}/dir"},
    {"eval {w}/empty.safetensors", "{w}/empty.safetensors"},
    {"eval {w}/locked.safetensors", "{w}/locked.safetensors", "", true},
    {"eval {w}/run --split test", "test"},
    {"eval {w}/run --integer-only --set int_weight_bits=1", "int_weight_bits=1"},
    {"eval {w}/run --iters 0", "iters"},
    {"eval {w}/run --batch-size x", "x"},
    {"eval {w}/run --set arith.linear=bogus", "bogus"},
    {"eval {w}/run --set arith.modules.lm_hed=exact", "lm_hed"},
    {"eval {w}/run --iters 1 --set arith.linear=dgq:g=7", "g=7"},
    {"eval {w}/run --dump-batches {w}/dir", "{w}/dir"},
    // export
    {"export {w}/run", "--out"},
    {"export {w}/missing --out {w}/x.safetensors", "{w}/missing"},
    {"export {w}/empty.safetensors --out {w}/x.safetensors", "{w}/empty.safetensors"},
    {"export {w}/run --out {w}/x.safetensors --format nosuch", "nosuch"},
    {"export {w}/run --out {w}/x.safetensors --format dgq:g=7", "g=7 does not divide the input width 16"},
    {"export {w}/run --out {w}/x.safetensors --format dgq:g=0", "dgq:g=0"},
    {"export {w}/run --out {w}/dir", "{w}/dir"},
    {"export {w}/run --out {w}/x.safetensors --checkpoint foo", "foo"},
    {"export {w}/run --out {w}/x.safetensors extra", "extra"},
    // precision
    {"precision {w}/run", "--avg-bits"},
    {"precision {w}/missing --avg-bits 6", "{w}/missing"},
    {"precision {w}/run --avg-bits abc", "abc"},
    {"precision {w}/run --avg-bits 3", "--avg-bits 3"},  // no allocation fits: 4 bits is the least
    {"precision {w}/run --avg-bits 0", "--avg-bits 0"},
    {"precision {w}/run --avg-bits 6 --bits 4,x", "'x'"},
    {"precision {w}/run --avg-bits 6 --bits 1,8", "--bits 1"},
    {"precision {w}/run --avg-bits 6 --bits 4,4", "--bits 4"},
    {"precision {w}/run --avg-bits 6 --format int:b=4", "{bits}"},
    {"precision {w}/run --avg-bits 6 --format nosuch:b={bits}", "nosuch"},
    {"precision {w}/run --avg-bits 6 --samples 0", "--samples 0"},
    {"precision {w}/run --avg-bits 6 --eps -1", "--eps -1"},
    {"precision {w}/run --avg-bits 6 --out {w}/dir", "{w}/dir"},
    {"precision {w}/run --avg-bits 6 --out {w}/missing/f.toml", "{w}/missing"},
    {"precision {w}/run --avg-bits 6 --set n_layer=3", "n_layer"},
    {"precision {w}/run --avg-bits 6 extra", "extra"},
    // inspect
    {"inspect", "checkpoint"},
    {"inspect {w}/missing", "{w}/missing"},
    {"inspect {w}/dir", "{w}/dir"},
    {"inspect {w}/empty.safetensors", "{w}/empty.safetensors"},
    {"inspect {w}/garbage.safetensors", "{w}/garbage.safetensors"},
    {"inspect {w}/locked.safetensors", "{w}/locked.safetensors", "", true},
    {"inspect {w}/run {w}/run", "{w}/run"},
    // numerics
    {"numerics bogus", "bogus"},
    {"numerics quantize", "--format"},
    {"numerics quantize --format nosuch", "nosuch"},
    {"numerics quantize --format fp8:e4m3", "abc", "1.5\nabc\n"},
    {"numerics mul --mul lmul:m=99", "m=99"},
    {"numerics mul --mul exact", "x", "1 x\n"},
    {"numerics error --mul bogus", "bogus"},
    {"numerics intop shiftmax", "--scale"},
    {"numerics intop frob", "frob"},
    {"numerics intop requant --multiplier abc", "abc"},
    {"numerics intop shiftmax --scale 0.1", "x", "1 2 x\n"},
    // compare
    {"compare", "run_dirs"},
    {"compare {w}/missing", "{w}/missing"},
    {"compare {w}/dir", "{w}/dir"},
    {"compare {w}/metricsless", "{w}/metricsless"},
    {"compare {w}/run --metric nosuch", "nosuch"},
    {"compare {w}/run --out {w}/text.txt", "{w}/text.txt"},
    {"compare {w}/run --higher-better --lower-better", "better"},
    // tokenize
    {"tokenize --vocab {w}/missing", "{w}/missing"},
    {"tokenize --vocab {w}/dir", "{w}/dir"},
    {"tokenize --vocab {vocab} --decode", "abc", "12 abc\n"},
    {"tokenize --vocab {vocab} --decode", "99999", "99999\n"},
    {"tokenize extra", "extra"},
    // sweep
    {"sweep", "source"},
    {"sweep {w}/missing", "{w}/missing"},
    {"sweep {w}/cfg.toml", "--arith"},
    {"sweep {w}/cfg.toml --arith nosuch", "nosuch"},
    {"sweep {w}/cfg.toml --arith exact --seeds a,b", "a,b"},
    {"sweep {w}/cfg.toml --arith exact --site mlp", "mlp"},
    {"sweep {w}/cfg.toml --arith exact --set nosuch=1", "nosuch"},
    {"sweep {w}/empty.toml", "{w}/empty.toml"},
    {"sweep {w}/garbage.toml", "{w}/garbage.toml"},
    {"sweep {w}/dir", "{w}/dir"},
    {"sweep {w}/cfg.toml --arith exact --out {w}/text.txt", "{w}/text.txt"},
};

// {w}: the working directory; {vocab}: GPT-2's files.
std::string substitute(std::string s, const std::string& w) {
  for (size_t at; (at = s.find("{w}")) != std::string::npos;) s.replace(at, 3, w);
  for (size_t at; (at = s.find("{vocab}")) != std::string::npos;)
    s.replace(at, 7, std::string(LMUL_SHARED_DIR) + "/data/gpt2");
  return s;
}

std::vector<std::string> split(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> out;
  for (std::string word; in >> word;) out.push_back(word);
  return out;
}

// Every entry under dir with its size, modification time and mode: what "nothing written" compares.
std::map<std::string, std::string> snapshot(const std::string& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    struct stat st {};
    ::lstat(e.path().c_str(), &st);
    out[e.path().string()] = std::to_string(st.st_size) + " " + std::to_string(st.st_mtim.tv_sec) + "." +
                             std::to_string(st.st_mtim.tv_nsec) + " " + std::to_string(st.st_mode);
  }
  return out;
}

struct Outcome {
  int exit_code = -1;
  std::string out, err;
};

// Runs lmul ARGS in cwd with stdin from a file, stdout and stderr apart; as nobody when asked and root.
Outcome run_in(const std::string& cwd, const std::vector<std::string>& args, const std::string& in,
               const std::string& io_dir, bool unprivileged) {
  const std::string out = io_dir + "/out", err = io_dir + "/err";
  std::vector<char*> argv{const_cast<char*>(LMUL_BINARY)};
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::dup2(::open(in.c_str(), O_RDONLY), 0);
    ::dup2(::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0666), 1);
    ::dup2(::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0666), 2);
    if (::chdir(cwd.c_str()) != 0) ::_exit(125);
    if (unprivileged && ::geteuid() == 0 && (::setgid(65534) != 0 || ::setuid(65534) != 0)) ::_exit(126);
    ::execv(LMUL_BINARY, argv.data());
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, read_file(out), read_file(err)};
}

}  // namespace

TEST_SUITE("cli") {
  TEST_CASE("bad input on every subcommand: exit 2, one `lmul: error:` line naming it, nothing written") {
    TempDir w, io;
    // Writable by nobody too, for the rows that run as nobody: "nothing written" holds for them as well.
    fs::permissions(w.path(), fs::perms::all);
    fs::permissions(io.path(), fs::perms::all);
    fs::permissions(shakespeare_char_dir(), fs::perms::others_read | fs::perms::others_exec, fs::perm_options::add);
    tiny_cli_config(w, 2);
    fs::rename(w / "c.toml", w / "cfg.toml");
    REQUIRE(run_lmul("train " + (w / "cfg.toml") + " -q").exit_code == 0);
    w.write("text.txt", "hello world\n");
    for (const char* f : {"empty.txt", "empty.toml", "empty.safetensors"}) w.write(f, "");
    w.write("garbage.toml", "[[[ this is not toml\n");
    w.write("garbage.safetensors", "\x10\x00\x00\x00\x00\x00\x00\x00{not json at all");
    fs::create_directories(w / "dir");
    w.write("metricsless/metrics.jsonl", "");
    w.write("locked.txt", "hello\n");
    w.write("locked.toml", read_file(w / "cfg.toml"));
    fs::copy_file(w / "run/ckpt/latest.safetensors", w / "locked.safetensors");
    for (const char* f : {"locked.txt", "locked.toml", "locked.safetensors"}) fs::permissions(w / f, fs::perms::none);
    // Relative defaults (prepare char's --out datasets/..., a config's out_dir) would land in w.
    const auto before = snapshot(w.str());

    int checked = 0, skipped = 0;
    for (const Row& row : kRows) {
      const std::string args = substitute(row.args, w.str()), names = substitute(row.names, w.str());
      CAPTURE(args);
      const std::string in = io.write("stdin", row.stdin_text);
      const Outcome r = run_in(w.str(), split(args), in, io.str(), row.unreadable);
      if (r.exit_code == 126) {
        ++skipped;  // root without CAP_SETUID: root reads a mode-000 file, so there is no fault to inject
        continue;
      }
      ++checked;
      INFO("stdout: ", r.out);
      INFO("stderr: ", r.err);
      CHECK(r.exit_code == 2);
      CHECK(r.out.empty());
      CHECK(r.err.rfind("lmul: error: ", 0) == 0);
      CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
      CHECK(r.err.find(names) != std::string::npos);
      CHECK(snapshot(w.str()) == before);
    }
    for (const char* f : {"locked.txt", "locked.toml", "locked.safetensors"})
      fs::permissions(w / f, fs::perms::owner_all);
    MESSAGE(checked, " rows checked over every subcommand (", skipped, " unreadable-file rows skipped: no CAP_SETUID)");
    CHECK(checked + skipped == static_cast<int>(kRows.size()));
  }
}
