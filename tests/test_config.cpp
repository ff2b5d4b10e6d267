#include <doctest/doctest.h>

#include "train/config.h"
#include "core/error.h"
#include "test_helpers.h"

using namespace lmul;
using namespace lmul::train;
using lmul::test::TempDir;
using lmul::testing::write_file;

namespace {
std::string config_error(const std::string& toml, const std::vector<std::string>& sets = {}) {
  TempDir d;
  write_file(d / "c.toml", toml);
  try {
    load_config(d / "c.toml", sets);
  } catch (const Error& e) {
    std::string m = e.what();
    CHECK(m.find('\n') == std::string::npos);  // one line
    return m;
  }
  FAIL("expected an error");
  return "";
}
}  // namespace

TEST_SUITE("config") {
  TEST_CASE("keys are read from TOML and overridden by --set") {
    TempDir d;
    write_file(d / "c.toml", "n_layer = 3\nlearning_rate = 1\n[arith]\nlinear = \"exact\"\n");
    TrainConfig c = load_config(d / "c.toml", {"n_layer=5", "arith.backward=exact", "dropout=0.1"});
    CHECK(c.n_layer == 5);
    CHECK(c.learning_rate == 1.0);  // an integer is accepted for a float key
    CHECK(c.arith.backward == "exact");
    CHECK(c.dropout == doctest::Approx(0.1));
  }

  TEST_CASE("the resolved config round-trips through TOML") {
    TempDir d;
    write_file(d / "c.toml", "n_layer = 3\nbias = true\nout_dir = \"x y\"\n");
    TrainConfig c = load_config(d / "c.toml", {});
    write_file(d / "r.toml", to_toml(c));
    TrainConfig r = load_config(d / "r.toml", {});
    CHECK(to_json(r).dump() == to_json(c).dump());
  }

  TEST_CASE("unknown key names the file, line and key") {
    auto m = config_error("n_layer = 2\nn_layers = 4\n");
    CHECK(m.find("c.toml:2") != std::string::npos);
    CHECK(m.find("unknown key 'n_layers'") != std::string::npos);
  }

  TEST_CASE("wrong type and out-of-range values are errors") {
    CHECK(config_error("n_layer = \"four\"\n").find("'n_layer' must be an integer") != std::string::npos);
    CHECK(config_error("dropout = 1.5\n").find("dropout=1.5 is out of range") != std::string::npos);
    CHECK(config_error("bias = 1\n").find("'bias' must be true or false") != std::string::npos);
    CHECK(config_error("", {"max_iters=ten"}).find("--set: max_iters=ten: not an integer") != std::string::npos);
    CHECK(config_error("", {"max_iters"}).find("expected key=value") != std::string::npos);
    CHECK(config_error("", {"nope=1"}).find("unknown key 'nope'") != std::string::npos);
  }

  TEST_CASE("n_embd not divisible by n_head is an error naming both") {
    auto m = config_error("n_embd = 100\nn_head = 3\n");
    CHECK(m.find("n_embd=100 is not divisible by n_head=3") != std::string::npos);
  }

  TEST_CASE("a bad arithmetic spec names the key") {
    auto m = config_error("[arith]\nlinear = \"lmull:m=4\"\n");
    CHECK(m.find("arith.linear") != std::string::npos);
    CHECK(m.find("unknown format") != std::string::npos);
    CHECK(config_error("[other]\nx = 1\n").find("unknown table [other]") != std::string::npos);
  }

  TEST_CASE("TOML syntax errors give file:line:column") {
    auto m = config_error("n_layer = = 3\n");
    CHECK(m.find("c.toml:1:") != std::string::npos);
  }

  TEST_CASE("a missing config file is an error naming it") {
    CHECK_THROWS_WITH_AS(load_config("/nonexistent/c.toml", {}), doctest::Contains("/nonexistent/c.toml"), Error);
  }
}
