// "Did you mean ...?" for a mistyped name: the nearest of the known names by edit distance.
#pragma once
#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

namespace lmul {

// Levenshtein distance (insertions, deletions, substitutions of bytes).
inline size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

// The known name nearest to word, if it is near enough to be a typo (at most a third of its
// length, and at least 2, edits away; a transposition counts 2); else "".
inline std::string nearest_name(std::string_view word, const std::vector<std::string>& names) {
  std::string best;
  size_t best_d = std::max<size_t>(2, word.size() / 3) + 1;
  for (const std::string& n : names) {
    const size_t d = edit_distance(word, n);
    if (d < best_d) best_d = d, best = n;
  }
  return best;
}

}  // namespace lmul
