#include "train/arith_modules.h"

#include <algorithm>

#include "core/error.h"
#include "core/suggest.h"

namespace lmul::train {

bool glob_match(std::string_view p, std::string_view s) {
  // Iterative matcher with one backtrack point (the last `*`): linear in practice, no recursion.
  size_t i = 0, j = 0, star = std::string_view::npos, mark = 0;
  while (j < s.size()) {
    if (i < p.size() && p[i] == '*') {
      star = i++;
      mark = j;
    } else if (i < p.size() && p[i] == s[j]) {
      ++i;
      ++j;
    } else if (star != std::string_view::npos) {
      i = star + 1;
      j = ++mark;
    } else {
      return false;
    }
  }
  while (i < p.size() && p[i] == '*') ++i;
  return i == p.size();
}

int pattern_specificity(std::string_view p) {
  const auto stars = std::count(p.begin(), p.end(), '*');
  if (stars == 0) return 1 << 30;
  return static_cast<int>(p.size() - static_cast<size_t>(stars));
}

ResolvedModules resolve_modules(const std::map<std::string, std::string>& patterns,
                                const std::vector<std::string>& modules, const std::string& source) {
  ResolvedModules r;
  for (const auto& [pattern, spec] : patterns) {
    const bool glob = pattern.find('*') != std::string::npos;
    const bool any =
        std::any_of(modules.begin(), modules.end(), [&p = pattern](const auto& m) { return glob_match(p, m); });
    if (any) continue;
    if (glob) {
      r.unmatched_globs.push_back(pattern);
      continue;
    }
    const std::string near = nearest_name(pattern, modules);
    throw Error(
        "{}: arith.modules: '{}' is not a module of this model ({}module names are the checkpoint's "
        "without .weight, e.g. {}, and may use * globs)",
        source, pattern, near.empty() ? "" : "did you mean '" + near + "'? ",
        modules.empty() ? std::string("none") : modules.front());
  }
  for (const auto& m : modules) {
    const std::string* best = nullptr;
    const std::string* best_pattern = nullptr;
    int best_rank = -1;
    for (const auto& [pattern, spec] : patterns) {
      if (!glob_match(pattern, m)) continue;
      const int rank = pattern_specificity(pattern);
      if (rank == best_rank && *best != spec)
        throw Error(
            "{}: arith.modules: '{}' and '{}' both match {} equally specifically with different specs "
            "('{}' vs '{}'); name the module, or make one pattern longer",
            source, *best_pattern, pattern, m, *best, spec);
      if (rank > best_rank) {
        best_rank = rank;
        best = &spec;
        best_pattern = &pattern;
      }
    }
    if (best) r.specs[m] = *best;
  }
  return r;
}

void set_module_pattern(std::map<std::string, std::string>& patterns, const std::string& pattern,
                        const std::string& spec) {
  std::erase_if(patterns, [&](const auto& kv) { return glob_match(pattern, kv.first); });
  patterns[pattern] = spec;
}

}  // namespace lmul::train
