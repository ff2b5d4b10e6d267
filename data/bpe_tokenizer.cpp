#include "data/bpe_tokenizer.h"

#include <atomic>
#include <string>

#include "core/error.h"
#include "data/bpe_merge.h"
#include "data/bpe_piece_cache.h"
#include "data/bpe_pretokenize.h"

namespace lmul::data {
namespace {

constexpr std::string_view kEndOfText = "<|endoftext|>";

// Each thread's cache, and which tokenizer filled it.
struct MergeCache {
  uint64_t owner = 0;
  BpePieceCache pieces;
};

thread_local MergeCache tl_cache;
std::atomic<uint64_t> next_instance{1};

}  // namespace

BpeTokenizer::BpeTokenizer(const std::string& vocab_dir)
    : vocab_(load_bpe_vocab(vocab_dir)), instance_(next_instance.fetch_add(1)) {}

void BpeTokenizer::encode_into(std::string_view text, std::vector<int>& out) const {
  MergeCache& cache = tl_cache;
  if (cache.owner != instance_) {
    cache.owner = instance_;
    cache.pieces.clear();
  }
  for_each_pretoken(text, [&](std::string_view piece) {
    if (piece.size() == 1) {
      out.push_back(vocab_.byte_id[static_cast<unsigned char>(piece[0])]);
      return;
    }
    if (piece.size() > BpePieceCache::kMaxPiece) {
      bpe_merge(piece, vocab_, out);
      return;
    }
    const uint64_t h = BpePieceCache::hash(piece);
    uint32_t n = 0;
    if (const int* ids = cache.pieces.find(piece, h, n)) {
      out.insert(out.end(), ids, ids + n);
      return;
    }
    size_t start = out.size();
    bpe_merge(piece, vocab_, out);
    cache.pieces.insert(piece, h, out.data() + start, static_cast<uint32_t>(out.size() - start));
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
      throw Error("[gpt2 decode] token id {} (position {}) is outside the vocabulary 0..{}", id, i, vocab_.size() - 1);
    out += vocab_.token_bytes[id];
  }
  return out;
}

}  // namespace lmul::data
