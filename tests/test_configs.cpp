// Every committed config parses and validates (so a typo in a shipped config fails CI).
#include <doctest/doctest.h>

#include <filesystem>

#include "train/config.h"

TEST_SUITE("config") {
  TEST_CASE("every committed training config loads and validates") {
    int n = 0;
    for (const auto& e : std::filesystem::directory_iterator(std::string(LMUL_SOURCE_DIR) + "/configs")) {
      if (e.path().extension() != ".toml") continue;
      INFO(e.path().string());
      CHECK_NOTHROW(lmul::train::load_config(e.path().string(), {}));
      ++n;
    }
    CHECK(n >= 4);
  }
}
