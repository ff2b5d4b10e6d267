#include "data/char_tokenizer.h"

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "data/utf8.h"

namespace lmul::data {

CharTokenizer::CharTokenizer(std::vector<std::string> chars) : chars_(std::move(chars)) {
  for (size_t i = 0; i < chars_.size(); ++i) {
    const std::string& c = chars_[i];
    Utf8Char u = c.empty() ? Utf8Char{-1, 0} : decode_utf8(c, 0);
    if (u.cp < 0 || static_cast<size_t>(u.len) != c.size())
      throw Error("[char vocabulary] entry {} ({}) is not exactly one UTF-8 character", i,
                  nlohmann::json(c).dump(-1, ' ', true, nlohmann::json::error_handler_t::replace));
    if (!id_of_.emplace(u.cp, static_cast<int>(i)).second)
      throw Error("[char vocabulary] entry {} ({}) appears twice", i, nlohmann::json(c).dump());
  }
}

std::vector<int> CharTokenizer::encode(std::string_view text) const {
  std::vector<int> out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    Utf8Char u = decode_utf8(text, i);
    if (u.cp < 0)
      throw Error("[char encode] invalid UTF-8 byte 0x{:02x} at byte {}", static_cast<unsigned char>(text[i]), i);
    auto it = id_of_.find(u.cp);
    if (it == id_of_.end())
      throw Error("[char encode] character {} (U+{:04X}) at byte {} is not in the {}-character vocabulary",
                  nlohmann::json(std::string(text.substr(i, u.len))).dump(), u.cp, i, chars_.size());
    out.push_back(it->second);
    i += u.len;
  }
  return out;
}

std::string CharTokenizer::decode(std::span<const int> ids) const {
  std::string out;
  out.reserve(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    int id = ids[i];
    if (id < 0 || id >= vocab_size())
      throw Error("[char decode] token id {} (position {}) is outside the vocabulary 0..{}", id, i, vocab_size() - 1);
    out += chars_[id];
  }
  return out;
}

}  // namespace lmul::data
