// lmul tokenize: GPT-2 BPE from the command line. Encode: bytes on stdin -> ids on stdout,
// separated by spaces. Decode (--decode): whitespace-separated ids on stdin -> the exact bytes.
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>

#include <fmt/format.h>

#include "apps/commands.h"
#include "core/error.h"
#include "data/bpe_tokenizer.h"

namespace lmul::apps {
namespace {

struct TokenizeOptions {
  std::string vocab_dir = "../shared/data/gpt2";
  bool allow_special = false;
  bool decode = false;
};

std::string read_stdin() {
  std::string s;
  char buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, stdin)) > 0) s.append(buf, n);
  if (std::ferror(stdin)) throw RuntimeFailure("stdin: read failed");
  return s;
}

std::vector<int> parse_ids(const std::string& text) {
  std::vector<int> ids;
  std::istringstream in(text);
  std::string word;
  while (in >> word) {
    size_t used = 0;
    long long v = 0;
    try {
      v = std::stoll(word, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != word.size() || v < INT32_MIN || v > INT32_MAX)
      throw Error("[tokenize --decode] \"{}\" (token {}) is not an integer id", word, ids.size());
    ids.push_back(static_cast<int>(v));
  }
  return ids;
}

}  // namespace

void add_tokenize(CLI::App& app) {
  auto opt = std::make_shared<TokenizeOptions>();
  auto* cmd =
      app.add_subcommand("tokenize", "GPT-2 BPE: bytes on stdin -> ids on stdout (or ids -> bytes with --decode)");
  cmd->add_option("--vocab", opt->vocab_dir, "Directory with GPT-2's encoder.json and vocab.bpe")
      ->capture_default_str();
  cmd->add_flag("--allow-special", opt->allow_special, "Encode \"<|endoftext|>\" in the input as id 50256");
  cmd->add_flag("--decode", opt->decode, "Read ids (whitespace-separated), write their exact bytes");
  cmd->callback([opt] {
    data::BpeTokenizer tok(opt->vocab_dir);
    std::string in = read_stdin();
    if (opt->decode) {
      std::string bytes = tok.decode(parse_ids(in));
      std::fwrite(bytes.data(), 1, bytes.size(), stdout);
    } else {
      auto ids = opt->allow_special ? tok.encode_allow_special(in) : tok.encode(in);
      std::string out;
      for (size_t i = 0; i < ids.size(); ++i) fmt::format_to(std::back_inserter(out), "{}{}", i ? " " : "", ids[i]);
      out += '\n';
      std::fwrite(out.data(), 1, out.size(), stdout);
    }
    if (std::fflush(stdout) != 0) throw RuntimeFailure("stdout: write failed");
  });
}

}  // namespace lmul::apps
