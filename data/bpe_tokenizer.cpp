#include "data/bpe_tokenizer.h"

#include <atomic>
#include <string>
#include <unordered_map>

#include "core/error.h"
#include "data/bpe_merge.h"
#include "data/bpe_pretokenize.h"

namespace lmul::data {
namespace {

constexpr std::string_view kEndOfText = "<|endoftext|>";
// Pieces up to this many bytes are cached; longer ones are rare and would only crowd the cache.
constexpr size_t kCacheMaxPiece = 64;
// The cache is dropped when it grows past this many pieces (bounds memory per thread).
constexpr size_t kCacheMaxEntries = size_t{1} << 18;

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

// Per-thread piece -> ids cache: ids live in one arena, the map holds (offset, count).
struct MergeCache {
  uint64_t owner = 0;
  std::unordered_map<std::string, std::pair<uint32_t, uint32_t>, StringHash, std::equal_to<>> index;
  std::vector<int> ids;

  void reset(uint64_t new_owner) {
    owner = new_owner;
    index.clear();
    ids.clear();
  }
};

thread_local MergeCache tl_cache;
std::atomic<uint64_t> next_instance{1};

}  // namespace

BpeTokenizer::BpeTokenizer(const std::string& vocab_dir)
    : vocab_(load_bpe_vocab(vocab_dir)), instance_(next_instance.fetch_add(1)) {}

void BpeTokenizer::encode_into(std::string_view text, std::vector<int>& out) const {
  MergeCache& cache = tl_cache;
  if (cache.owner != instance_) cache.reset(instance_);
  for_each_pretoken(text, [&](std::string_view piece) {
    if (piece.size() == 1) {
      out.push_back(vocab_.byte_id[static_cast<unsigned char>(piece[0])]);
      return;
    }
    if (piece.size() > kCacheMaxPiece) {
      bpe_merge(piece, vocab_, out);
      return;
    }
    if (auto it = cache.index.find(piece); it != cache.index.end()) {
      const int* p = cache.ids.data() + it->second.first;
      out.insert(out.end(), p, p + it->second.second);
      return;
    }
    size_t start = out.size();
    bpe_merge(piece, vocab_, out);
    if (cache.index.size() >= kCacheMaxEntries) cache.reset(instance_);
    auto offset = static_cast<uint32_t>(cache.ids.size());
    cache.ids.insert(cache.ids.end(), out.begin() + start, out.end());
    cache.index.emplace(std::string(piece), std::pair{offset, static_cast<uint32_t>(out.size() - start)});
  });
}

std::vector<int> BpeTokenizer::encode(std::string_view text) const {
  std::vector<int> out;
  out.reserve(text.size() / 3 + 1);
  encode_into(text, out);
  return out;
}

std::vector<int> BpeTokenizer::encode_allow_special(std::string_view text) const {
  std::vector<int> out;
  out.reserve(text.size() / 3 + 1);
  for (;;) {
    size_t at = text.find(kEndOfText);
    encode_into(text.substr(0, at), out);
    if (at == std::string_view::npos) break;
    out.push_back(vocab_.eot_id);
    text.remove_prefix(at + kEndOfText.size());
  }
  return out;
}

std::string BpeTokenizer::decode(std::span<const int> ids) const {
  std::string out;
  out.reserve(ids.size() * 4);
  for (size_t i = 0; i < ids.size(); ++i) {
    int id = ids[i];
    if (id < 0 || id >= vocab_.size())
      throw Error("[gpt2 decode] token id {} (position {}) is outside the vocabulary 0..{}", id, i,
                  vocab_.size() - 1);
    out += vocab_.token_bytes[id];
  }
  return out;
}

}  // namespace lmul::data
