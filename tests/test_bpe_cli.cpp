// `lmul tokenize` and `lmul prepare gpt2` through the real binary.
#include <doctest/doctest.h>

#include <sys/wait.h>

#include <cstdio>
#include <random>

#include <nlohmann/json.hpp>

#include "tests/gpt2_fixture.h"
#include "tests/temp_dir.h"

using lmul::test::slurp;
using lmul::test::TempDir;

namespace {

struct Run {
  int rc;
  std::string out;
};

// Runs a shell command line, returns its exit code and stdout.
Run run(const std::string& cmd) {
  std::FILE* p = ::popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int status = ::pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

const std::string kLmul = LMUL_BINARY;
const std::string kVocab = " --vocab '" + lmul::test::kGpt2Dir + "'";

}  // namespace

TEST_SUITE("data.bpe") {
  TEST_CASE("lmul tokenize prints the ids of stdin separated by spaces") {
    TempDir d;
    auto in = d.write("in.txt", "Hello world<|endoftext|>");
    auto r = run(kLmul + " tokenize" + kVocab + " < '" + in + "'");
    CHECK(r.rc == 0);
    CHECK(r.out == "15496 995 27 91 437 1659 5239 91 29\n");
    r = run(kLmul + " tokenize --allow-special" + kVocab + " < '" + in + "'");
    CHECK(r.rc == 0);
    CHECK(r.out == "15496 995 50256\n");
  }

  TEST_CASE("lmul tokenize --decode gives back the exact bytes of random binary input") {
    TempDir d;
    std::mt19937 rng(5);
    std::string bytes(20000, '\0');
    for (char& c : bytes) c = static_cast<char>(rng() & 0xFF);
    auto in = d.write("in.bin", bytes);
    auto r = run(kLmul + " tokenize" + kVocab + " < '" + in + "' | " + kLmul + " tokenize --decode" + kVocab + " > '" +
                 (d / "out.bin") + "'");
    CHECK(r.rc == 0);
    CHECK(slurp(d / "out.bin") == bytes);
  }

  TEST_CASE("lmul tokenize --decode of an id outside the vocabulary exits 2 naming it") {
    auto r = run("echo '15496 50257' | " + kLmul + " tokenize --decode" + kVocab + " 2>&1");
    CHECK(r.rc == 2);
    CHECK(r.out.find("token id 50257") != std::string::npos);
    r = run("echo '15496 x7' | " + kLmul + " tokenize --decode" + kVocab + " 2>&1");
    CHECK(r.rc == 2);
    CHECK(r.out.find("\"x7\"") != std::string::npos);
  }

  TEST_CASE("lmul tokenize with a missing vocabulary exits 2 naming encoder.json") {
    auto r = run("echo hi | " + kLmul + " tokenize --vocab /nonexistent/gpt2 2>&1");
    CHECK(r.rc == 2);
    CHECK(r.out.find("/nonexistent/gpt2/encoder.json") != std::string::npos);
  }

}  // TEST_SUITE

TEST_SUITE("data.prepare") {
  TEST_CASE("lmul prepare gpt2 writes Shakespeare's counts and a summary line") {
    TempDir out;
    auto r = run(kLmul + " prepare gpt2 --input '" + std::string(LMUL_SHARED_DIR) +
                 "/data/tinyshakespeare/input.txt' --out '" + out.str() + "'" + kVocab + " --workers 2 2>&1");
    CHECK(r.rc == 0);
    CHECK(r.out.find("train 301966 tokens, val 36059 tokens") != std::string::npos);
    auto meta = nlohmann::json::parse(slurp(out / "meta.json"));
    CHECK(meta["train_tokens"] == 301966);
    CHECK(meta["val_tokens"] == 36059);
  }

  TEST_CASE("lmul prepare gpt2 with a bad JSONL line exits 2 with file:line") {
    TempDir in, out;
    auto bad = in.write("bad.jsonl", "{\"text\": \"a\"}\n{\"text\": 5}\n");
    auto r = run(kLmul + " prepare gpt2 --input '" + bad + "' --out '" + (out / "o") + "'" + kVocab + " 2>&1");
    CHECK(r.rc == 2);
    CHECK(r.out.find("bad.jsonl:2:") != std::string::npos);
    CHECK(std::count(r.out.begin(), r.out.end(), '\n') == 1);
  }

}  // TEST_SUITE
