#include "data/bpe_vocab.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "data/utf8.h"

namespace lmul::data {
namespace {

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

constexpr const char* kEndOfText = "<|endoftext|>";

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw Error("{}: cannot open ({}); expected GPT-2's encoder.json and vocab.bpe there", path, std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A token as a JSON string for messages. A token from vocab.bpe is raw bytes, maybe not UTF-8: invalid
// bytes are shown as U+FFFD (the default dump() throws on them).
std::string quoted(const std::string& token) {
  return nlohmann::json(token).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// Undo bytes_to_unicode on one token string; throws when a character is outside the alphabet.
std::string token_to_bytes(const std::string& token, const std::array<int, 0x180>& byte_of, const std::string& where) {
  std::string out;
  for (size_t i = 0; i < token.size();) {
    Utf8Char c = decode_utf8(token, i);
    if (c.cp < 0 || c.cp >= static_cast<int32_t>(byte_of.size()) || byte_of[c.cp] < 0)
      throw Error("{}: token {} has a character outside GPT-2's byte alphabet", where, quoted(token));
    out.push_back(static_cast<char>(byte_of[c.cp]));
    i += c.len;
  }
  return out;
}

}  // namespace

std::array<char32_t, 256> gpt2_byte_to_unicode() {
  // Printable Latin-1 bytes stand for themselves; the other 68 bytes are moved to U+0100 onwards,
  // in byte order (openai/gpt-2 src/encoder.py bytes_to_unicode).
  std::array<char32_t, 256> u{};
  char32_t next = 256;
  for (int b = 0; b < 256; ++b) {
    bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    u[b] = printable ? static_cast<char32_t>(b) : next++;
  }
  return u;
}

BpeVocab load_bpe_vocab(const std::string& dir) {
  const std::string enc_path = dir + "/encoder.json";
  const std::string bpe_path = dir + "/vocab.bpe";
  BpeVocab v;
  v.dir = dir;

  std::array<int, 0x180> byte_of;
  byte_of.fill(-1);
  auto b2u = gpt2_byte_to_unicode();
  for (int b = 0; b < 256; ++b) byte_of[b2u[b]] = b;

  // encoder.json: {"token": id, ...}, ids 0..n-1 each once.
  nlohmann::json enc;
  try {
    enc = nlohmann::json::parse(read_file(enc_path));
  } catch (const nlohmann::json::exception& e) {  // parse_error; out_of_range for a number like 1e400
    throw Error("{}: malformed JSON ({})", enc_path, e.what());
  }
  if (!enc.is_object() || enc.empty()) throw Error("{}: expected a JSON object mapping token strings to ids", enc_path);
  const size_t n = enc.size();
  if (n > static_cast<size_t>(BpePairTable::kMaxIds))
    throw Error("{}: {} tokens; at most {} are supported", enc_path, n, BpePairTable::kMaxIds);
  v.token_bytes.assign(n, {});
  std::vector<bool> seen(n, false);
  std::unordered_map<std::string, int, StringHash, std::equal_to<>> id_of;  // raw bytes -> id
  id_of.reserve(2 * n);
  for (auto it = enc.begin(); it != enc.end(); ++it) {
    if (!it.value().is_number_integer()) throw Error("{}: token {} has a non-integer id", enc_path, quoted(it.key()));
    long long id = it.value().get<long long>();
    if (id < 0 || id >= static_cast<long long>(n) || seen[id])
      throw Error("{}: token {} has id {}, which is out of 0..{} or used twice", enc_path, quoted(it.key()), id, n - 1);
    seen[id] = true;
    if (it.key() == kEndOfText) {
      v.eot_id = static_cast<int>(id);
      v.token_bytes[id] = kEndOfText;
      continue;
    }
    std::string bytes = token_to_bytes(it.key(), byte_of, enc_path);
    if (bytes.empty()) throw Error("{}: empty token string for id {}", enc_path, id);
    v.token_bytes[id] = bytes;
    if (!id_of.emplace(std::move(bytes), static_cast<int>(id)).second)
      throw Error("{}: token {} stands for the same bytes as another token", enc_path, quoted(it.key()));
  }
  if (v.eot_id < 0) throw Error("{}: no \"{}\" token", enc_path, kEndOfText);
  for (int b = 0; b < 256; ++b) {
    const char byte = static_cast<char>(b);
    auto it = id_of.find(std::string_view(&byte, 1));
    if (it == id_of.end()) throw Error("{}: no token for the single byte 0x{:02x}", enc_path, b);
    v.byte_id[b] = it->second;
  }

  // vocab.bpe: "#version" line, then one merge "A B" per line; merge i must make token 256 + i,
  // which is what lets a merged token's id serve as its rank.
  const std::string merges = read_file(bpe_path);
  std::istringstream lines(merges);
  std::string line;
  int line_no = 0, rank = 0;
  while (std::getline(lines, line)) {
    ++line_no;
    if (line_no == 1 && line.rfind("#version", 0) == 0) continue;
    if (line.empty()) continue;
    size_t sp = line.find(' ');
    if (sp == std::string::npos || sp == 0 || sp + 1 == line.size() || line.find(' ', sp + 1) != std::string::npos)
      throw Error("{}:{}: expected two tokens separated by one space", bpe_path, line_no);
    std::string where = fmt::format("{}:{}", bpe_path, line_no);
    std::string a = token_to_bytes(line.substr(0, sp), byte_of, where);
    std::string b = token_to_bytes(line.substr(sp + 1), byte_of, where);
    auto ia = id_of.find(a), ib = id_of.find(b), iab = id_of.find(a + b);
    if (ia == id_of.end() || ib == id_of.end() || iab == id_of.end())
      throw Error("{}: merge \"{}\" names a token that {} does not have", where, line, enc_path);
    if (iab->second != 256 + rank)
      throw Error("{}: merge #{} makes token id {}, but GPT-2 ranks need id {}; files inconsistent", where, rank,
                  iab->second, 256 + rank);
    ++rank;
  }
  if (static_cast<size_t>(256 + rank + 1) != n)
    throw Error("{}: {} merges, but {} has {} tokens (expected 256 + merges + 1)", bpe_path, rank, enc_path, n);

  // Pair table as tiktoken applies the ranks: two adjacent parts merge whenever their
  // concatenation is a token, so every split of every token into two tokens is a pair.
  std::vector<std::pair<std::pair<int, int>, int>> found;
  for (const auto& [bytes, id] : id_of) {
    const std::string_view b = bytes;
    for (size_t k = 1; k < b.size(); ++k) {
      auto l = id_of.find(b.substr(0, k));
      if (l == id_of.end()) continue;
      auto r = id_of.find(b.substr(k));
      if (r == id_of.end()) continue;
      found.push_back({{l->second, r->second}, id});
    }
  }
  v.pairs = BpePairTable(found.size());
  for (const auto& [p, id] : found) v.pairs.insert(p.first, p.second, id);
  return v;
}

}  // namespace lmul::data
