// [arith.modules]: arithmetic per module by checkpoint name with * globs (train/arith_modules.h),
// through the config, the model, resume and the CLI.
#include <doctest/doctest.h>

#include "apps/sweep/sweep_request.h"
#include "core/arith/arith.h"
#include "core/error.h"
#include "nn/gpt.h"
#include "test_helpers.h"
#include "train/arith_modules.h"
#include "train/config.h"
#include "train/model.h"
#include "train/resume.h"

using namespace lmul;
using namespace lmul::train;
using lmul::test::TempDir;
using lmul::testing::read_file;
using lmul::testing::run_lmul;
using lmul::testing::tiny_cli_config;
using lmul::testing::write_file;

namespace {
// Two layers, so that globs over layers have something to choose between.
TrainConfig two_layer_config(const TempDir& d, const std::string& modules, const std::vector<std::string>& sets = {}) {
  write_file(d / "c.toml",
             "n_layer = 2\nn_head = 2\nn_embd = 16\nblock_size = 16\nvocab_size = 65\n"
             "[arith]\nlinear = \"int:b=8\"\n[arith.modules]\n" +
                 modules);
  return load_config(d / "c.toml", sets);
}
const std::string kInt4 = "int:w=4,a=4,gran=tensor,round=nearest";
const std::string kInt6 = "int:w=6,a=6,gran=tensor,round=nearest";
}  // namespace

TEST_SUITE("arith_modules") {
  TEST_CASE("globs match whole names; * matches any run of characters, dots included") {
    CHECK(glob_match("transformer.h.*.mlp.c_fc", "transformer.h.0.mlp.c_fc"));
    CHECK(glob_match("transformer.h.*.mlp.c_fc", "transformer.h.11.mlp.c_fc"));
    CHECK_FALSE(glob_match("transformer.h.*.mlp.c_fc", "transformer.h.0.mlp.c_proj"));
    CHECK(glob_match("*", "lm_head"));
    CHECK(glob_match("*c_proj", "transformer.h.3.attn.c_proj"));
    CHECK_FALSE(glob_match("transformer.h.1", "transformer.h.11"));
    CHECK(glob_match("a*b*c", "abc"));
    CHECK_FALSE(glob_match("a*b*c", "acb"));
    CHECK(pattern_specificity("transformer.h.0.mlp.c_fc") > pattern_specificity("transformer.h.*.mlp.c_fc"));
    CHECK(pattern_specificity("transformer.h.*.mlp.c_fc") > pattern_specificity("transformer.h.0.*"));
  }

  TEST_CASE("the most specific match wins and unmatched modules keep their site's spec") {
    TempDir d;
    TrainConfig c = two_layer_config(d,
                                     "\"transformer.h.*\" = \"int:b=6\"\n"
                                     "\"transformer.h.*.mlp.c_fc\" = \"int:b=4\"\n"
                                     "\"transformer.h.1.mlp.c_fc\" = \"exact\"\n");
    CHECK(c.arith.modules.at("transformer.h.0.mlp.c_fc") == kInt4);
    CHECK(c.arith.modules.at("transformer.h.1.mlp.c_fc") == "exact");
    CHECK(c.arith.modules.at("transformer.h.0.attn.c_attn") == kInt6);
    CHECK(c.arith.modules.count("lm_head") == 0);  // no pattern names it: the head site's spec
    // The model takes them: one GEMM site per module.
    nn::GPT gpt(model_config(c, 65), c.arith, 1);
    for (GemmSite* s : gpt.gemm_sites()) {
      if (s->name == "transformer.h.0.mlp.c_fc") CHECK(s->forward->spec() == kInt4);
      if (s->name == "transformer.h.1.mlp.c_fc") CHECK(s->forward->spec() == "exact");
      if (s->name == "transformer.h.1.attn.c_proj") CHECK(s->forward->spec() == kInt6);
      if (s->name == "lm_head") CHECK(s->forward->spec() == "exact");
    }
  }

  TEST_CASE("the MatMul-free LM takes the table by its own module names (every BitLinear, lm_head)") {
    TempDir d;
    write_file(d / "m.toml",
               "model = \"matmulfree\"\nn_layer = 2\nn_embd = 16\nintermediate_size = 32\nblock_size = 16\n"
               "vocab_size = 65\n[arith]\nlinear = \"ternary\"\nhead = \"ternary\"\n[arith.modules]\n"
               "\"model.layers.*.mlp.*\" = \"int:b=4\"\n\"lm_head\" = \"exact\"\n");
    TrainConfig c = load_config(d / "m.toml", {});
    CHECK(c.arith.modules.size() == 5);  // two layers × gate_proj, down_proj; lm_head
    CHECK(c.arith.modules.at("model.layers.1.mlp.down_proj") == kInt4);
    auto model = make_model(c);
    int seen = 0;
    for (GemmSite* s : model->gemm_sites()) {
      const bool mlp = s->name.find(".mlp.") != std::string::npos;
      if (s->name == "lm_head")
        CHECK(s->forward->spec() == "exact");
      else
        CHECK(s->forward->spec() == (mlp ? kInt4 : c.arith.linear));
      ++seen;
    }
    CHECK(seen == 2 * 6 + 1);
    write_file(d / "bad.toml", read_file(d / "m.toml") + "\"transformer.h.0.mlp.c_fc\" = \"int:b=8\"\n");
    CHECK_THROWS_WITH_AS(load_config(d / "bad.toml", {}), doctest::Contains("transformer.h.0.mlp.c_fc"), Error);
  }

  TEST_CASE("--set adds a row; a --set glob replaces the rows it covers") {
    TempDir d;
    TrainConfig c =
        two_layer_config(d, "\"transformer.h.0.mlp.c_fc\" = \"exact\"\n",
                         {"arith.modules.transformer.h.*.mlp.c_fc=int:b=4", "arith.modules.lm_head='int:b=6'"});
    CHECK(c.arith.modules.at("transformer.h.0.mlp.c_fc") == kInt4);
    CHECK(c.arith.modules.at("transformer.h.1.mlp.c_fc") == kInt4);
    CHECK(c.arith.modules.at("lm_head") == kInt6);
    // A more specific --set row beside a glob of the file.
    TrainConfig e = two_layer_config(d, "\"transformer.h.*.mlp.c_fc\" = \"int:b=4\"\n",
                                     {"arith.modules.transformer.h.1.mlp.c_fc=exact"});
    CHECK(e.arith.modules.at("transformer.h.0.mlp.c_fc") == kInt4);
    CHECK(e.arith.modules.at("transformer.h.1.mlp.c_fc") == "exact");
  }

  TEST_CASE("the resolved table round-trips through config.toml and the checkpoint's JSON") {
    TempDir d;
    TrainConfig c = two_layer_config(d, "\"transformer.h.*.mlp.c_fc\" = \"int:b=4\"\n");
    const std::string toml = to_toml(c);
    CHECK(toml.find("transformer.h.1.mlp.c_fc") != std::string::npos);
    CHECK(toml.find("transformer.h.*") == std::string::npos);  // resolved: module names, no globs
    write_file(d / "again.toml", toml);
    TrainConfig again = load_config(d / "again.toml", {});
    CHECK(again.arith.modules == c.arith.modules);
    const auto j = to_json(c);
    CHECK(j["arith"]["modules"]["transformer.h.0.mlp.c_fc"] == kInt4);
    TrainConfig from_json = config_from_json(nlohmann::json(j), "ckpt");
    CHECK(from_json.arith.modules == c.arith.modules);
    // No table: no key (configs and checkpoints written before it read the same).
    TrainConfig none = two_layer_config(d, "");
    CHECK_FALSE(to_json(none)["arith"].contains("modules"));
  }

  TEST_CASE("a glob that matches nothing is a warning naming it") {
    ResolvedModules r = resolve_modules({{"transformer.h.9.*", "exact"}, {"lm_head", "exact"}},
                                        {"transformer.h.0.mlp.c_fc", "lm_head"}, "c.toml");
    REQUIRE(r.unmatched_globs.size() == 1);
    CHECK(r.unmatched_globs[0] == "transformer.h.9.*");
    CHECK(r.specs.size() == 1);
  }

  TEST_CASE("a module that does not exist, a tie and a bad spec are one-line errors") {
    TempDir d;
    auto error = [&](const std::string& modules, const std::vector<std::string>& sets = {}) {
      try {
        two_layer_config(d, modules, sets);
      } catch (const Error& e) {
        const std::string m = e.what();
        CHECK(m.find('\n') == std::string::npos);
        return m;
      }
      FAIL("expected an error");
      return std::string();
    };
    std::string m = error("\"transformer.h.0.mlp.c_fx\" = \"int:b=4\"\n");
    CHECK(m.find("'transformer.h.0.mlp.c_fx' is not a module") != std::string::npos);
    CHECK(m.find("did you mean 'transformer.h.0.mlp.c_fc'") != std::string::npos);
    CHECK(error("", {"arith.modules.transformer.h.2.mlp.c_fc=exact"}).find("transformer.h.2.mlp.c_fc") !=
          std::string::npos);
    // 16 literal characters each, both matching transformer.h.0.mlp.c_fc
    m = error("\"transformer.h.0.*\" = \"int:b=4\"\n\"*mer.h.0.mlp.c_fc\" = \"exact\"\n");
    CHECK(m.find("equally specifically") != std::string::npos);
    CHECK(error("\"lm_head\" = \"int:b=99\"\n").find("arith.modules.lm_head") != std::string::npos);
    CHECK(error("\"lm_head\" = 4\n").find("must be a spec string") != std::string::npos);
    CHECK(error("", {"arith.modules=int:b=4"}).find("name the module") != std::string::npos);
  }

  TEST_CASE("resume refuses a changed module unless allowed, by module or for the whole table") {
    const nlohmann::json saved = {{"n_layer", 2},
                                  {"arith", {{"linear", "exact"}, {"modules", {{"lm_head", "int:b=4"}}}}}};
    nlohmann::ordered_json now = {{"n_layer", 2},
                                  {"arith", {{"linear", "exact"}, {"modules", {{"lm_head", "int:b=8"}}}}}};
    try {
      resume_changes(saved, now, "run/ckpt/latest.safetensors");
      FAIL("expected an error");
    } catch (const Error& e) {
      CHECK(std::string(e.what()).find("--allow-change arith.modules.lm_head") != std::string::npos);
    }
    CHECK(resume_changes(saved, now, "c", {"arith.modules"}).contains("arith.modules.lm_head"));
    CHECK(resume_changes(saved, now, "c", {"arith.modules.lm_head"}).size() == 1);
    // A row added or removed is a change too.
    nlohmann::ordered_json removed = {{"n_layer", 2}, {"arith", {{"linear", "exact"}}}};
    CHECK_THROWS_AS(resume_changes(saved, removed, "c"), Error);
    CHECK(resume_changes(saved, removed, "c", {"all"}).at("arith.modules.lm_head")[1].is_null());
    // Unchanged: nothing to allow.
    CHECK(resume_changes(saved, nlohmann::ordered_json(saved), "c").empty());
  }

  TEST_CASE("a sweep entry takes modules.NAME=SPEC parts") {
    const apps::sweep::ArithEntry e =
        apps::sweep::parse_arith_entry("linear=int:b=8+modules.transformer.h.*.mlp.c_fc=int:b=4", "linear");
    REQUIRE(e.assignments.size() == 2);
    CHECK(e.assignments[1].first == "modules.transformer.h.*.mlp.c_fc");
    CHECK(e.assignments[1].second == "int:b=4");
    // A module name has letters, digits, '_', '.' and '*' only: "modules.x =SPEC" (fuzz_sweep's
    // find, fuzz/corpus/sweep/regress-module-name-with-space) is no module part, so the text is
    // taken as the site's spec, which the format registry refuses, instead of a row no model could have.
    for (const char* text : {"modules.lm_head =int:b=4", "exact+modules.lm head=int:b=4"}) {
      const apps::sweep::ArithEntry bad = apps::sweep::parse_arith_entry(text, "linear");
      REQUIRE(bad.assignments.size() == 1);
      CHECK(bad.assignments[0].first == "linear");
      CHECK_THROWS_AS(arith::make_multiplier(bad.assignments[0].second), Error);
    }
  }

  TEST_CASE("cli: train writes the table, warns of an empty glob; eval --set takes rows; a bad name exits 2") {
    TempDir d;
    const std::string cfg = tiny_cli_config(d, 2, "[arith.modules]\n\"transformer.h.*.mlp.*\" = \"int:b=4\"\n");
    auto r = run_lmul("train " + cfg + " -q --set 'arith.modules.transformer.h.7.*=exact'");
    REQUIRE(r.exit_code == 0);
    CHECK(r.output.find("lmul: warning:") != std::string::npos);
    CHECK(r.output.find("'transformer.h.7.*' matches no module") != std::string::npos);
    const std::string written = read_file(d / "run/config.toml");
    CHECK(written.find("'transformer.h.0.mlp.c_proj' = 'int:w=4,a=4,gran=tensor,round=nearest'") != std::string::npos);
    CHECK(read_file(d / "run/metrics.jsonl").find("\"modules\":{\"transformer.h.0.mlp.c_fc\"") != std::string::npos);
    r = run_lmul("eval " + (d / "run") + " --iters 1 --json --set 'arith.modules.*=int:b=8'");
    REQUIRE(r.exit_code == 0);
    CHECK(r.output.find("\"lm_head\":\"int:w=8,a=8,gran=tensor,round=nearest\"") != std::string::npos);
    r = run_lmul("eval " + (d / "run") + " --iters 1 --set 'arith.modules.transformer.h.0.mlp.fc=int:b=8'");
    CHECK(r.exit_code == 2);
    CHECK(r.output.find("lmul: error:") == 0);
    CHECK(r.output.find("did you mean 'transformer.h.0.mlp.c_fc'") != std::string::npos);
  }
}
