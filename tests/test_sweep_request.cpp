// The sweep's request side: the arithmetic entry grammar, --site, --seeds, sweep files, and the
// runs a request expands into (no training here; see test_sweep_cli.cpp).
#include <doctest/doctest.h>

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "apps/sweep/sweep_plan.h"
#include "apps/sweep/sweep_request.h"
#include "core/error.h"
#include "test_helpers.h"
#include "tests/error_of.h"

using namespace lmul;
using namespace lmul::apps::sweep;
using lmul::test::TempDir;
using lmul::testing::write_file;

namespace {
using Assignments = std::vector<std::pair<std::string, std::string>>;

using lmul::testing::error_of;
}  // namespace

TEST_SUITE("sweep") {
  TEST_CASE("a bare spec goes to the --site sites and names its run site=spec with ':' as '_'") {
    const ArithEntry e = parse_arith_entry("lmul:m=4,variant=formula", "linear");
    CHECK(e.assignments == Assignments{{"linear", "lmul:m=4,variant=formula"}});
    CHECK(e.name == "linear=lmul_m=4,variant=formula");
  }

  TEST_CASE("--site all is linear, attention and head, not embedding") {
    CHECK(parse_sites("all", "--site") == std::vector<std::string>{"linear", "attention", "head"});
    CHECK(parse_sites("embedding+linear", "--site") == std::vector<std::string>{"linear", "embedding"});
    CHECK(parse_arith_entry("fp8:e4m3", "all").assignments ==
          Assignments{{"linear", "fp8:e4m3"}, {"attention", "fp8:e4m3"}, {"head", "fp8:e4m3"}});
  }

  TEST_CASE("SITE=SPEC parts joined by '+' set several sites; a spec's own '=' is not a site") {
    CHECK(parse_arith_entry("linear=pot:b=5+embedding=pot:b=5", "linear").assignments ==
          Assignments{{"linear", "pot:b=5"}, {"embedding", "pot:b=5"}});
    CHECK(parse_arith_entry("float:e=5,m=2", "attention").assignments == Assignments{{"attention", "float:e=5,m=2"}});
    CHECK(parse_arith_entry("pot:b=5+embedding=pot:b=5", "linear").assignments ==
          Assignments{{"linear", "pot:b=5"}, {"embedding", "pot:b=5"}});
    CHECK(parse_arith_entry("attention=lmul:m=4", "linear").name == "attention=lmul_m=4");
  }

  TEST_CASE("backward=SPEC sets the gradient GEMMs' arithmetic") {
    const ArithEntry e = parse_arith_entry("linear=exact+backward=exact", "linear");
    CHECK(e.assignments == Assignments{{"linear", "exact"}, {"backward", "exact"}});
    CHECK(e.name == "linear=exact+backward=exact");
  }

  TEST_CASE("a '+' not followed by SITE= stays inside the spec") {
    CHECK(parse_arith_entry("pot:b=5,eps=1e+2", "linear").assignments == Assignments{{"linear", "pot:b=5,eps=1e+2"}});
  }

  TEST_CASE("an entry giving a site twice, an empty spec or a bare spec after the first part is an error") {
    CHECK(error_of([] { parse_arith_entry("exact+linear=exact", "linear"); }) ==
          "sweep: --arith entry 'exact+linear=exact': 'linear' is given twice");
    CHECK(error_of([] { parse_arith_entry("linear=", "linear"); }).find("empty spec in 'linear='") !=
          std::string::npos);
    CHECK(error_of([] { parse_arith_entry("", "linear"); }).starts_with("sweep: empty --arith entry"));
  }

  TEST_CASE("an unknown --site word is a one-line error naming it and the choices") {
    CHECK(error_of([] { parse_sites("linear+attn", "sweep: --site"); }) ==
          "sweep: --site 'linear+attn': unknown site 'attn' (choose linear, attention, head, embedding, all, or "
          "several joined by '+')");
    CHECK(error_of([] { parse_sites("", "sweep: --site"); }).starts_with("sweep: --site is empty"));
    CHECK(error_of([] { parse_sites("linear+", "sweep: --site"); }).find("unknown site ''") != std::string::npos);
  }

  TEST_CASE("--arith lists split at ';', between arguments, and at the ',' before a new spec") {
    CHECK(split_arith_list({"exact;lmul:m=4,variant=formula", "fp8:e4m3", ";"}) ==
          std::vector<std::string>{"exact", "lmul:m=4,variant=formula", "fp8:e4m3"});
    // The issue's own form: entries joined by ',' while spec options stay with their spec.
    CHECK(split_arith_list({"exact,lmul:m=4,fp8:e4m3,pot:b=5,ternary"}) ==
          std::vector<std::string>{"exact", "lmul:m=4", "fp8:e4m3", "pot:b=5", "ternary"});
    CHECK(split_arith_list({"lmul:m=4,variant=formula,round=trunc,fp8:e4m3,scale=delayed,exact"}) ==
          std::vector<std::string>{"lmul:m=4,variant=formula,round=trunc", "fp8:e4m3,scale=delayed", "exact"});
    CHECK(split_arith_list({"exact,attention=lmul:m=4,backward=exact,linear=pot:b=5+embedding=pot:b=5,,ternary"}) ==
          std::vector<std::string>{"exact", "attention=lmul:m=4", "backward=exact", "linear=pot:b=5+embedding=pot:b=5",
                                   "ternary"});
    CHECK(split_arith_list({"linear=lmul:m=4,variant=formula+attention=exact"}) ==
          std::vector<std::string>{"linear=lmul:m=4,variant=formula+attention=exact"});
    // An option with no spec before it is left alone (and then rejected as a spec with its name).
    CHECK(split_arith_list({"m=4,exact"}) == std::vector<std::string>{"m=4", "exact"});
  }

  TEST_CASE("--seeds reads comma-separated non-negative integers") {
    CHECK(parse_seeds("1,2,3") == std::vector<int64_t>{1, 2, 3});
    CHECK(error_of([] { parse_seeds("1,x"); }) ==
          "sweep: --seeds '1,x': 'x' is not a non-negative integer (write e.g. --seeds 1,2,3)");
    CHECK(error_of([] { parse_seeds("1,1"); }).find("seed 1 is given twice") != std::string::npos);
  }

  TEST_CASE("the formats sweep file plans 16 arithmetics × 3 seeds = 48 distinct runs") {
    const std::string file = std::string(LMUL_SOURCE_DIR) + "/configs/sweeps/formats_shakespeare_char.toml";
    REQUIRE(is_sweep_file(file));
    SweepRequest r = read_sweep_file(file);
    CHECK(r.config == std::string(LMUL_SOURCE_DIR) + "/configs/shakespeare_char_cpu.toml");  // beside the sweep file
    const SweepPlan p = plan_sweep(r);
    CHECK(p.entries.size() == 16);
    CHECK(p.runs.size() == 48);
    CHECK(p.dir == "runs/formats_shakespeare_char");
    CHECK(p.seeds == std::vector<int64_t>{1, 2, 3});
    CHECK(r.sets == std::vector<std::string>{"threads=1"});  // the README's figures are at one thread
    CHECK(p.runs.front().name == "linear=exact.seed1");      // seed by seed: all 16 arithmetics of seed 1 first
    CHECK(p.runs[1].name == "linear=lmul_m=3.seed1");
    CHECK(p.runs[16].name == "linear=exact.seed2");
    CHECK(p.runs[14].name == "all=lmul_m=4.seed1");
    CHECK(p.runs[15].name == "linear=pot_b=4+head=pot_b=4+embedding=pot_b=4.seed1");
    CHECK(p.runs.back().dir == "runs/formats_shakespeare_char/linear=pot_b=4+head=pot_b=4+embedding=pot_b=4.seed3");
    std::set<std::string> names;
    for (const auto& run : p.runs) names.insert(run.name);
    CHECK(names.size() == 48);
    const auto& o = p.runs[17].overrides;  // lmul:m=3, seed 2
    CHECK(std::ranges::find(o, "arith.linear=lmul:m=3") != o.end());
    CHECK(std::ranges::find(o, "seed=2") != o.end());
    const auto& pot = p.runs[15].overrides;
    for (const char* site : {"linear", "head", "embedding"})
      CHECK(std::ranges::find(pot, fmt::format("arith.{}=pot:b=4", site)) != pot.end());
  }

  TEST_CASE("a training config is not a sweep file; sweep.toml reads back as the request written") {
    TempDir d;
    write_file(d / "train.toml", "max_iters = 10\n[arith]\nlinear = \"exact\"\n");
    CHECK_FALSE(is_sweep_file(d / "train.toml"));
    write_file(d / "c.toml", "");
    SweepRequest r;
    r.config = "c.toml";  // relative: found beside the sweep file
    r.arith = {"exact", "lmul:m=4,variant=formula", "linear=pot:b=5+embedding=pot:b=5"};
    r.site = "all";
    r.seeds = {1, 2};
    r.sets = {"max_iters=100"};
    r.out = "runs/x";
    write_file(d / "sweep.toml", to_sweep_toml(r));
    CHECK(is_sweep_file(d / "sweep.toml"));
    const SweepRequest back = read_sweep_file(d / "sweep.toml");
    CHECK(back.config == d / "c.toml");
    CHECK(back.arith == r.arith);
    CHECK(back.site == r.site);
    CHECK(back.seeds == r.seeds);
    CHECK(back.sets == r.sets);
    CHECK(back.out == r.out);
  }

  TEST_CASE("a sweep file's unknown key or wrong type is an error naming file:line and the key") {
    TempDir d;
    write_file(d / "s.toml", "[sweep]\nconfig = \"c.toml\"\narith = [\"exact\"]\nseed = [1]\n");
    CHECK(error_of([&] { read_sweep_file(d / "s.toml"); }) ==
          (d / "s.toml") + ":4: key 'sweep.seed': unknown key (known: config, arith, site, seeds, set, out)");
    write_file(d / "s.toml", "[sweep]\nconfig = \"c.toml\"\narith = \"exact\"\n");
    CHECK(error_of([&] { read_sweep_file(d / "s.toml"); }) ==
          (d / "s.toml") + ":3: key 'sweep.arith' must be an array of strings");
  }

  TEST_CASE("two entries naming the same run, or resolving to the same arithmetic, are errors") {
    TempDir d;
    write_file(d / "c.toml", "out_dir = \"" + (d / "run") + "\"\n");
    SweepRequest r;
    r.config = d / "c.toml";
    r.arith = {"exact", "linear=exact"};
    CHECK(error_of([&] { plan_sweep(r); }) ==
          "sweep: --arith entries 'exact' and 'linear=exact' name the same run 'linear=exact' (give each arithmetic "
          "once)");
    r.arith = {"exact", "attention=exact"};  // the base config is exact everywhere: both are the same runs
    const SweepPlan p = plan_sweep(r);
    CHECK(p.dir == (d / "run") + "_sweep");
    CHECK(error_of([&] { resolve_runs(p); }) ==
          "sweep: --arith entries 'exact' and 'attention=exact' give the same arithmetic (drop one)");
  }

  TEST_CASE("a run dir without a checkpoint is fresh, even with metrics from a stopped start") {
    TempDir d;
    std::filesystem::create_directories(d.path() / "r");
    write_file(d / "r/metrics.jsonl", "{\"config\": {}}\n{\"step\": 0, \"val_loss\": 4.1}\n");
    CHECK(run_status(d.path() / "r", 10).state == RunState::fresh);
    CHECK(run_status(d.path() / "missing", 10).state == RunState::fresh);
  }
}
