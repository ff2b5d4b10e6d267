#include "data/tokenizer.h"

#include <cerrno>
#include <cstring>
#include <fstream>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "data/bpe_tokenizer.h"
#include "data/char_tokenizer.h"

namespace lmul::data {

std::unique_ptr<Tokenizer> load_tokenizer(const std::string& data_dir) {
  const std::string path = data_dir + "/meta.json";
  std::ifstream in(path);
  if (!in) throw Error("{}: cannot open ({}); run `lmul prepare` for this data first", path, std::strerror(errno));
  nlohmann::json meta;
  try {
    meta = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {  // parse_error; out_of_range for a number like 1e400
    throw Error("{}: malformed JSON ({})", path, e.what());
  }
  if (!meta.is_object() || !meta.contains("tokenizer") || !meta["tokenizer"].is_string())
    throw Error("{}:tokenizer: missing; expected \"gpt2\" or \"char\"", path);
  const std::string kind = meta["tokenizer"];
  if (kind == "gpt2") {
    if (!meta.contains("vocab_dir") || !meta["vocab_dir"].is_string())
      throw Error("{}:vocab_dir: missing; expected the directory of encoder.json and vocab.bpe", path);
    return std::make_unique<BpeTokenizer>(meta["vocab_dir"].get<std::string>());
  }
  if (kind == "char") {
    const auto& chars = meta.contains("chars") ? meta["chars"] : nlohmann::json();
    if (!chars.is_array() || chars.empty())
      throw Error("{}:chars: missing; expected an array of one-character strings", path);
    std::vector<std::string> v;
    for (const auto& c : chars) {
      if (!c.is_string()) throw Error("{}:chars: entry {} is not a string", path, c.dump());
      v.push_back(c.get<std::string>());
    }
    try {
      return std::make_unique<CharTokenizer>(std::move(v));
    } catch (const Error& e) {
      throw Error("{}:chars: {}", path, e.what());
    }
  }
  throw Error("{}:tokenizer: \"{}\" is not a tokenizer; expected \"gpt2\" or \"char\"", path, kind);
}

}  // namespace lmul::data
