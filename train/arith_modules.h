// Arithmetic per module ([arith.modules]): patterns over the checkpoint names of a model's GEMM
// modules (without ".weight"; `*` matches any run of characters, dots included) → spec. The most
// specific matching pattern gives a module its spec; a module no pattern matches keeps its site's.
#pragma once
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace lmul::train {

// The `*`-glob match of a whole name (no other wildcard; `*` may match the empty string).
bool glob_match(std::string_view pattern, std::string_view name);

// How specific a pattern is: a name without `*` beats every glob; among globs, more literal
// characters win. Two patterns of equal specificity that match one module with different specs
// are an error (resolve_modules names them).
int pattern_specificity(std::string_view pattern);

struct ResolvedModules {
  std::map<std::string, std::string> specs;  // module → spec, only the modules some pattern matched
  std::vector<std::string> unmatched_globs;  // globs that matched no module (warnings)
};

// Resolves patterns (as given, specs already canonical) against the model's module names.
// Throws lmul::Error (source names the config) for a name without `*` that is not a module,
// naming the nearest module, and for an ambiguous tie.
ResolvedModules resolve_modules(const std::map<std::string, std::string>& patterns,
                                const std::vector<std::string>& modules, const std::string& source);

// A `--set arith.modules.PATTERN=SPEC` over an existing table: the new pattern replaces every
// entry whose name it matches as a string (so a glob given on the command line overrides the
// explicit names of a resolved config.toml it covers), then is added.
void set_module_pattern(std::map<std::string, std::string>& patterns, const std::string& pattern,
                        const std::string& spec);

}  // namespace lmul::train
