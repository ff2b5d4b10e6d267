// TOML training config and `--set key=value` overrides → a validated TrainConfig.
// Input: the TOML file, then (after a "%%" line) one override per line.
// Properties: a config that loads has every number finite and in its key's range, and its resolved
// form (to_toml, what a run dir's config.toml holds) loads back to the same config.
#include <cmath>
#include <sstream>
#include <variant>

#include "fuzz/fuzz_input.h"
#include "train/config.h"

using namespace lmul;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto parts = fuzz::split_parts(data, size, 2);
  std::vector<std::string> overrides;
  std::istringstream lines(parts[1]);
  for (std::string line; std::getline(lines, line);) overrides.push_back(line);
  const std::string path = fuzz::write_file("config.toml", parts[0]);
  fuzz::expect_clean([&] {
    train::TrainConfig c = train::load_config(path, overrides);
    for (auto& k : train::config_keys(c)) {
      if (auto* d = std::get_if<double*>(&k.value); d && !(std::isfinite(**d) && **d >= k.lo && **d <= k.hi))
        fuzz::fail(fmt::format("{} = {} accepted outside {}..{}", k.name, **d, k.lo, k.hi));
    }
    const std::string resolved = fuzz::write_file("resolved.toml", train::to_toml(c));
    train::TrainConfig again = train::load_config(resolved, {});
    if (train::to_json(again) != train::to_json(c))
      fuzz::fail("the resolved config does not load back to itself: " + train::to_json(c).dump());
  });
  return 0;
}
