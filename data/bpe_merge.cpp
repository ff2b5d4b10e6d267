#include "data/bpe_merge.h"

#include <climits>
#include <cstdint>
#include <queue>

namespace lmul::data {

void bpe_merge_scan(std::string_view piece, const BpeVocab& v, std::vector<int>& out) {
  const size_t n = piece.size();
  // ids[i] and rank[i] = merged id of (ids[i], ids[i+1]) or INT_MAX; both shrink as pairs merge.
  int ids_buf[kBpeHeapThreshold + 1], rank_buf[kBpeHeapThreshold + 1];
  std::vector<int> ids_vec, rank_vec;
  int* ids = ids_buf;
  int* rank = rank_buf;
  if (n > kBpeHeapThreshold) {
    ids_vec.resize(n);
    rank_vec.resize(n);
    ids = ids_vec.data();
    rank = rank_vec.data();
  }
  auto pair_rank = [&](int a, int b) {
    int m = v.pairs.find(a, b);
    return m == BpePairTable::kNone ? INT_MAX : m;
  };
  for (size_t i = 0; i < n; ++i) ids[i] = v.byte_id[static_cast<unsigned char>(piece[i])];
  size_t len = n;
  for (size_t i = 0; i + 1 < len; ++i) rank[i] = pair_rank(ids[i], ids[i + 1]);
  while (len > 1) {
    size_t best = 0;
    int best_rank = INT_MAX;
    for (size_t i = 0; i + 1 < len; ++i)
      if (rank[i] < best_rank) best_rank = rank[i], best = i;
    if (best_rank == INT_MAX) break;
    ids[best] = best_rank;  // the rank is the merged token's id
    for (size_t i = best + 1; i + 1 < len; ++i) ids[i] = ids[i + 1], rank[i] = rank[i + 1];
    --len;
    if (best + 1 < len) rank[best] = pair_rank(ids[best], ids[best + 1]);
    if (best > 0) rank[best - 1] = pair_rank(ids[best - 1], ids[best]);
  }
  out.insert(out.end(), ids, ids + len);
}

void bpe_merge_heap(std::string_view piece, const BpeVocab& v, std::vector<int>& out) {
  const int n = static_cast<int>(piece.size());
  if (n == 0) return;
  // A doubly linked list of parts (indexed by their first byte) and a min-heap of candidate pairs
  // keyed (rank, left position); entries made stale by earlier merges are skipped when popped.
  std::vector<int> id(n), prev(n), next(n);
  std::vector<bool> alive(n, true);
  for (int i = 0; i < n; ++i) {
    id[i] = v.byte_id[static_cast<unsigned char>(piece[i])];
    prev[i] = i - 1;
    next[i] = i + 1 < n ? i + 1 : -1;
  }
  struct Cand {
    int rank, left, right, left_id, right_id;
    bool operator>(const Cand& o) const { return rank != o.rank ? rank > o.rank : left > o.left; }
  };
  std::priority_queue<Cand, std::vector<Cand>, std::greater<Cand>> heap;
  auto push = [&](int l) {
    if (l < 0 || next[l] < 0) return;
    int r = next[l];
    int m = v.pairs.find(id[l], id[r]);
    if (m != BpePairTable::kNone) heap.push({m, l, r, id[l], id[r]});
  };
  for (int i = 0; i + 1 < n; ++i) push(i);
  while (!heap.empty()) {
    Cand c = heap.top();
    heap.pop();
    if (!alive[c.left] || !alive[c.right] || next[c.left] != c.right || id[c.left] != c.left_id ||
        id[c.right] != c.right_id)
      continue;
    id[c.left] = c.rank;
    alive[c.right] = false;
    next[c.left] = next[c.right];
    if (next[c.right] >= 0) prev[next[c.right]] = c.left;
    push(prev[c.left]);
    push(c.left);
  }
  for (int i = 0; i >= 0; i = next[i]) out.push_back(id[i]);
}

}  // namespace lmul::data
