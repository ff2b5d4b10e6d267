// lmul numerics: check the arithmetic from outside the code (docs/ARCHITECTURE.md §3).
//   lmul numerics --list                          the formats and their options
//   lmul numerics quantize --format SPEC          stdin: one number per line → quantised value
//   lmul numerics mul --mul SPEC                  stdin: "x y" per line → product as SPEC forms it
//   lmul numerics error --mul SPEC... [--n N] [--seed S] [--round-product]
//                                                 mean/max relative error of random normal products
// The logic lives in core/arith/numerics.cpp; this file only wires the options.
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "apps/commands.h"
#include "core/arith/arith.h"
#include "core/arith/numerics.h"
#include "core/error.h"

namespace lmul::apps {

namespace {

struct NumericsOptions {
  bool list = false, round_product = false;
  std::string format, mul_spec, role = "weight";
  std::vector<std::string> specs;
  int64_t n = 100000;
  uint64_t seed = 0;
};

arith::Role parse_role(const std::string& r) {
  if (r == "weight") return arith::Role::weight;
  if (r == "activation") return arith::Role::activation;
  if (r == "gradient") return arith::Role::gradient;
  throw Error("numerics quantize: --role {} is not allowed (choose weight|activation|gradient)", r);
}

void run_quantize(const NumericsOptions& o) {
  const auto rows = arith::read_number_lines(std::cin, 1, "numerics quantize: stdin");
  std::vector<float> xs;
  for (const auto& r : rows) xs.push_back(r[0]);
  for (float v : arith::quantize_values(o.format, xs, parse_role(o.role), o.seed))
    fmt::print("{:.9g}\n", v);
}

void run_mul(const NumericsOptions& o) {
  auto m = arith::make_multiplier(o.mul_spec, o.seed);
  std::vector<float> xs, ys;
  for (const auto& r : arith::read_number_lines(std::cin, 2, "numerics mul: stdin")) {
    xs.push_back(r[0]);
    ys.push_back(r[1]);
  }
  for (float p : arith::multiply_pairs(*m, xs, ys)) fmt::print("{:.9g}\n", p);
}

void run_error(const NumericsOptions& o) {
  if (o.n < 1) throw Error("numerics error: --n {} must be at least 1", o.n);
  std::vector<arith::ProductError> rows;
  for (const auto& s : o.specs) rows.push_back(arith::product_error(s, o.n, o.seed, o.round_product));
  fmt::print("{}", arith::format_product_errors(rows));
}

}  // namespace

void add_numerics(CLI::App& app) {
  auto o = std::make_shared<NumericsOptions>();
  auto* cmd = app.add_subcommand("numerics", "Inspect the number formats and multiply arithmetics");
  cmd->add_flag("--list", o->list, "List the formats and their options");
  cmd->require_subcommand(0, 1);

  auto* quantize = cmd->add_subcommand(
      "quantize",
      "Quantise numbers from stdin (one per line, together one tensor) with a format; prints %.9g per line");
  quantize->add_option("--format", o->format,
                       "Spec, e.g. fp8:e4m3 or pot:b=4 (one tensor: fp8's delayed scaling uses scale 1 on it)")
      ->required();
  quantize->add_option("--role", o->role, "weight|activation|gradient (default weight)");
  quantize->add_option("--seed", o->seed, "Seed of stochastic rounding");
  quantize->callback([o] { run_quantize(*o); });

  auto* mul = cmd->add_subcommand(
      "mul",
      "Multiply 'x y' pairs from stdin as an arithmetic does (the x one token, the y one weight channel)");
  mul->add_option("--mul", o->mul_spec, "Spec, e.g. lmul:m=4")->required();
  mul->add_option("--seed", o->seed, "Seed of stochastic rounding");
  mul->callback([o] { run_mul(*o); });

  auto* error = cmd->add_subcommand(
      "error", "Mean/max relative error of products of random standard-normal pairs vs fp32");
  error->add_option("--mul", o->specs, "Specs to compare")->required();
  error->add_option("--n", o->n, "Number of pairs (default 100000)");
  error->add_option("--seed", o->seed, "Seed of the operands (default 0)");
  error->add_flag("--round-product", o->round_product,
                  "Also round each product to the arithmetic's format (fp8 x fp8 -> fp8)");
  error->callback([o] { run_error(*o); });

  cmd->callback([o, cmd] {
    if (o->list) {
      for (const auto& f : arith::formats())
        fmt::print("{:8}  {} (e.g. {}{}{})\n", f.name, f.help, f.example,
                   f.export_help ? "; lmul export --format " : "", f.export_help ? f.export_help : "");
      fmt::print("* marks the default of a choice; a bare fp8:e4m3|e5m2|hybrid is scale=delayed\n");
    } else if (cmd->get_subcommands().empty()) {
      throw Error("numerics: choose a subcommand (quantize, mul, error) or --list");
    }
  });
}

}  // namespace lmul::apps
