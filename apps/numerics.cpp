// lmul numerics: check the arithmetic from outside the code (docs/ARCHITECTURE.md §3).
//   lmul numerics --list                          the formats and their options
//   lmul numerics quantize --format SPEC          stdin: one number per line → quantised value
//   lmul numerics mul --mul SPEC                  stdin: "x y" per line → product as SPEC forms it
//   lmul numerics error --mul SPEC... [--n N] [--seed S] [--round-product]
//                                                 mean/max relative error of random normal products
//   lmul numerics intop shiftmax|shiftgelu|ilayernorm|requant [...]
//                                                 integer rows on stdin → the integer operator's rows
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
#include "core/integer/intop.h"

namespace lmul::apps {

namespace {

struct NumericsOptions {
  bool list = false, round_product = false;
  std::string format, mul_spec, role = "weight";
  std::vector<std::string> specs;
  int64_t n = 100000;
  uint64_t seed = 0;
  integer::IntopRequest intop;
  std::string scale, multiplier, weight, bias;  // parsed by from_chars: exactly float32 / double
};

// The exact semantics of `numerics intop`, printed by its --help.
constexpr const char* kIntopHelp =
    R"(Integer-only operators (I-ViT, HAWQ-V3) as specified in ../shared/research/ivit_integer_ops.md.
stdin: rows of space-separated int32 values, one row per line. stdout: the output rows, then a
final line 'scale ...' (the real value of an output integer q is q*scale; float32, shortest form).
Integer arithmetic throughout; floor is floor (arithmetic shift), not truncation.
  shiftmax --scale S [--bits B=8] [--causal]
      per row: x0 = floor(-f32(1/S)); m = max; d = x-m; xp = d + floor(d/2) - floor(d/16);
      xp = max(xp, 15*x0); q = floor(xp/x0); r = xp - x0*q; exp = ((r - 2*x0) << (15-q)) >> 1;
      Sum = min(sum exp, 2^31-1); f = floor((2^31-1)/Sum); y = (exp*f) >> (32-B).
      scale 2^-(B-1). --causal: line i (from 0) keeps columns j <= i; the others are left out
      of max and sum and output 0. Error if a row could sum past 2^31-1 (len*|x0|*2^15).
  shiftgelu --scale S [--bits B=8]
      s_sig = f32(S*f32(1.702)); x0 = floor(-f32(1/s_sig)); m = row max;
      e = exp_shift(x-m), e_m = exp_shift(-m) (as above with n = 23; e_m saturates at 2^31-1);
      f = floor((2^31-1)/min(e+e_m, 2^31-1)); y = x * ((e*f) >> (32-B)). scale S/2^(B-1).
      Error if |x0|*2^23 > 2^31-1.
  ilayernorm [--weight w,...] [--bias b,...]   (default 1 and 0; one value = every channel)
      mean = round_half_even(sum/C); y = x-mean; var = sum y^2; k = 2^16, then 10 times
      k = floor((k + floor(var/k))/2); f = floor((2^31-1)/k); out = floor(y*f/2) + bias_int,
      bias_int = floor(f32(f32(b/w)/scale_mid)), scale_mid = f32(sqrt(C))/2^30.
      scale: one value per channel, f32(scale_mid*w). --scale is accepted and unused (it cancels).
      Inputs within +-2^23, C <= 16384; w must be nonzero.
  requant --multiplier M [--scale S=1] [--bits B]
      first line 'm e': frexp(M) = (mant, ex), m = round_half_away(mant*2^31), e = 31-ex
      (0 < M < 2^31). Then each value: round_half_even(x*m / 2^e), clamped to B signed bits
      only when --bits is given. scale f32(S/M).)";

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
  for (float v : arith::quantize_values(o.format, xs, parse_role(o.role), o.seed)) fmt::print("{:.9g}\n", v);
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
  quantize
      ->add_option("--format", o->format,
                   "Spec, e.g. fp8:e4m3 or pot:b=4 (one tensor: fp8's delayed scaling uses scale 1 on it)")
      ->required();
  quantize->add_option("--role", o->role, "weight|activation|gradient (default weight)");
  quantize->add_option("--seed", o->seed, "Seed of stochastic rounding");
  quantize->callback([o] { run_quantize(*o); });

  auto* mul = cmd->add_subcommand(
      "mul", "Multiply 'x y' pairs from stdin as an arithmetic does (the x one token, the y one weight channel)");
  mul->add_option("--mul", o->mul_spec, "Spec, e.g. lmul:m=4")->required();
  mul->add_option("--seed", o->seed, "Seed of stochastic rounding");
  mul->callback([o] { run_mul(*o); });

  auto* error =
      cmd->add_subcommand("error", "Mean/max relative error of products of random standard-normal pairs vs fp32");
  error->add_option("--mul", o->specs, "Specs to compare")->required();
  error->add_option("--n", o->n, "Number of pairs (default 100000)");
  error->add_option("--seed", o->seed, "Seed of the operands (default 0)");
  error->add_flag("--round-product", o->round_product,
                  "Also round each product to the arithmetic's format (fp8 x fp8 -> fp8)");
  error->callback([o] { run_error(*o); });

  cmd->footer(std::string("numerics intop:\n") + kIntopHelp);
  auto* intop = cmd->add_subcommand(
      "intop", "Run an integer-only operator (I-ViT, HAWQ-V3) on integer rows from stdin; semantics below");
  intop->footer(kIntopHelp);
  intop->add_option("op", o->intop.op, "shiftmax|shiftgelu|ilayernorm|requant")->required();
  intop->add_option("--scale", o->scale, "The input scale S (float32)");
  intop->add_option("--bits", o->intop.bits, "Output bits (shiftmax, shiftgelu; default 8) or clamp bits (requant)");
  intop->add_flag("--causal", o->intop.causal, "shiftmax: line i keeps columns j <= i");
  intop->add_option("--weight", o->weight, "ilayernorm: w,... per channel (default 1)");
  intop->add_option("--bias", o->bias, "ilayernorm: b,... per channel (default 0)");
  intop->add_option("--multiplier", o->multiplier, "requant: the multiplier s_in/s_out");
  intop->callback([o] {
    if (!o->scale.empty()) o->intop.scale = integer::parse_number<float>(o->scale, "--scale");
    if (!o->multiplier.empty()) o->intop.multiplier = integer::parse_number<double>(o->multiplier, "--multiplier");
    if (!o->weight.empty()) o->intop.weight = integer::parse_float_list(o->weight, "--weight");
    if (!o->bias.empty()) o->intop.bias = integer::parse_float_list(o->bias, "--bias");
    fmt::print("{}", integer::run_intop(o->intop, std::cin));
  });

  cmd->callback([o, cmd] {
    if (o->list) {
      for (const auto& f : arith::formats())
        fmt::print("{:8}  {} (e.g. {}{}{})\n", f.name, f.help, f.example,
                   f.export_help ? "; lmul export --format " : "", f.export_help ? f.export_help : "");
      fmt::print("* marks the default of a choice; a bare fp8:e4m3|e5m2|hybrid is scale=delayed\n");
    } else if (cmd->get_subcommands().empty()) {
      throw Error("numerics: choose a subcommand (quantize, mul, error, intop) or --list");
    }
  });
}

}  // namespace lmul::apps
