// What sampling and evaluation need from a tokenizer, whichever one prepared the data: text ->
// ids and ids -> bytes. load_tokenizer() picks the implementation from DIR/meta.json.
#pragma once
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace lmul::data {

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;
  // Ids of text. Throws lmul::Error when text cannot be represented (char level: unknown character).
  virtual std::vector<int> encode(std::string_view text) const = 0;
  // The exact bytes of ids. Throws lmul::Error naming an id outside 0..vocab_size()-1.
  virtual std::string decode(std::span<const int> ids) const = 0;
  virtual int vocab_size() const = 0;
  // "gpt2" or "char", as written in meta.json.
  virtual std::string name() const = 0;
};

// Reads DATA_DIR/meta.json: "tokenizer": "gpt2" loads the BPE from "vocab_dir"; "tokenizer": "char"
// builds the char-level one from "chars" (one UTF-8 character per string, id = index).
// Throws lmul::Error naming meta.json and the key at fault.
std::unique_ptr<Tokenizer> load_tokenizer(const std::string& data_dir);

}  // namespace lmul::data
