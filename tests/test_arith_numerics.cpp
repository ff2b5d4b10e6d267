#include <doctest/doctest.h>

#include <array>
#include <cstdio>
#include <sstream>
#include <string>

#include <fmt/format.h>

#include "core/arith/arith.h"
#include "core/arith/numerics.h"
#include "core/error.h"

using namespace lmul;
using namespace lmul::arith;

namespace {

// Runs `lmul <args>` with the given stdin through the shell; returns stdout+stderr and "rc=N".
std::string run_lmul(const std::string& input, const std::string& args) {
  const std::string cmd = "printf '" + input + "' | " + LMUL_BINARY + " " + args + " 2>&1; echo rc=$?";
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  std::string out;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  pclose(p);
  return out;
}

}  // namespace

TEST_SUITE("arith.numerics") {
  TEST_CASE("number lines: blanks skipped, a bad number or count names its line") {
    std::istringstream good("1.5 2\n\n-3 inf\n");
    const auto rows = read_number_lines(good, 2, "stdin");
    REQUIRE(rows.size() == 2);
    CHECK(rows[1][0] == -3.0f);
    std::istringstream bad("1 2\n3 x4\n");
    CHECK_THROWS_WITH_AS(read_number_lines(bad, 2, "stdin"), doctest::Contains("stdin line 2: 'x4' is not a number"),
                         Error);
    std::istringstream short_line("1 2\n3\n");
    CHECK_THROWS_WITH_AS(read_number_lines(short_line, 2, "stdin"),
                         doctest::Contains("stdin line 2: 1 numbers, expected 2"), Error);
  }

  TEST_CASE("quantize_values rounds the values as one tensor, unscaled unless asked") {
    const float xs[3] = {464.0f, 0.1f, -1000.0f};
    const auto q = quantize_values("fp8:e4m3", xs, Role::weight, 0);
    CHECK(q[0] == 448.0f);
    CHECK(q[1] == 0.1015625f);
    CHECK(q[2] == -448.0f);
    // scale=current: amax 1000 → scale 2^-2 (448/1000 = 0.448).
    const auto c = quantize_values("fp8:e4m3,scale=current", xs, Role::weight, 0);
    CHECK(c[0] == 448.0f);  // 464/4 = 116, a tie between 112 and 120 → 112
    CHECK(c[2] == -1024.0f);
    const auto p = quantize_values("pot:b=4", xs, Role::activation, 0);  // pot keeps activations
    CHECK(p[1] == 0.1f);
  }

  TEST_CASE("multiply_pairs quantises the x as one token and the y as one weight channel") {
    // int:b=2 → grid {-1, 0, 1}·amax per tensor: x amax 2, y amax 4.
    const float xs[3] = {2.0f, 0.9f, 1.1f}, ys[3] = {4.0f, 4.0f, -1.0f};
    const auto p = multiply_pairs(*make_multiplier("int:b=2"), xs, ys);
    CHECK(p[0] == 8.0f);
    CHECK(p[1] == 0.0f);   // 0.9/2 → 0
    CHECK(p[2] == -0.0f);  // -1/4 → -0
    CHECK(p[2] == 0.0f);
  }

  TEST_CASE("multiply quantises both operands, then uses the arithmetic's products") {
    CHECK(multiply(*make_multiplier("lmul:m=1"), 1.5f, 1.5f) == 3.0f);
    CHECK(multiply(*make_multiplier("lmul:m=1,variant=formula"), 1.5f, 1.5f) == 2.5f);
    CHECK(multiply(*make_multiplier("lmul:m=1"), 1.75f, 1.0f) == 2.0f * 1.5f);  // 1.75 → 2 (rne)
    CHECK(multiply(*make_multiplier("fp8:e4m3"), 0.1f, 10.0f) == 0.1015625f * 10.0f);
    CHECK(multiply(*make_multiplier("exact"), 0.1f, 3.0f) == 0.1f * 3.0f);
  }

  TEST_CASE("product errors land near the independently measured figures (5.7 % L-Mul m=3, 7.1 % E5M2, ...)") {
    const int64_t n = 40000;
    CHECK(product_error("lmul:m=3", n, 1).mean == doctest::Approx(0.057).epsilon(0.05));
    CHECK(product_error("lmul:m=4", n, 1).mean == doctest::Approx(0.053).epsilon(0.05));
    CHECK(product_error("lmul:m=4,round=trunc", n, 1).mean == doctest::Approx(0.030).epsilon(0.05));
    CHECK(product_error("lmul:m=3,variant=formula", n, 1, true).mean == doctest::Approx(0.07).epsilon(0.05));
    const double e4m3 = product_error("fp8:e4m3,scale=none", n, 1, true).mean;
    CHECK(e4m3 > 0.035);
    CHECK(e4m3 < 0.046);
    CHECK(product_error("fp8:e5m2,scale=none", n, 1, true).mean == doctest::Approx(0.071).epsilon(0.03));
    // Rounding an L-Mul bits product to M bits changes nothing: it already has M bits.
    const auto a = product_error("lmul:m=3", 5000, 2), b = product_error("lmul:m=3", 5000, 2, true);
    CHECK(a.mean == b.mean);
    CHECK(a.n == 5000);
    CHECK(product_error("exact", 1000, 3).max == 0.0);
  }

  TEST_CASE("cli: numerics quantize prints %.9g per line") {
    CHECK(run_lmul("464\\n-0\\n1e-10\\nnan\\n0.3\\n", "numerics quantize --format fp8:e4m3") ==
          "448\n-0\n0\nnan\n0.3125\nrc=0\n");
    CHECK(run_lmul("0.1\\n", "numerics quantize --format exact") == "0.100000001\nrc=0\n");
  }

  TEST_CASE("cli: numerics quantize reproduces the pot worked example (b=4: s = 2^-8) as one tensor") {
    CHECK(run_lmul("0.31\\n-0.02\\n0.007\\n-0.5\\n0.12\\n0\\n0.26\\n-0.09\\n", "numerics quantize --format pot:b=4") ==
          "0.25\n-0.015625\n0.0078125\n-0.5\n0.125\n0\n0.25\n-0.125\nrc=0\n");
  }

  TEST_CASE("cli: numerics mul multiplies pairs as the arithmetic does") {
    CHECK(run_lmul("1.5 1.5\\n-2 0.5\\n0 7\\n", "numerics mul --mul lmul:m=1") == "3\n-1.5\n0\nrc=0\n");
  }

  TEST_CASE("cli: a bad input line is a one-line error naming the line, exit 2") {
    CHECK(run_lmul("1\\n2\\nfoo\\n", "numerics quantize --format bf16") ==
          "lmul: error: numerics quantize: stdin line 3: 'foo' is not a number (expected 1 number per "
          "line)\nrc=2\n");
    const std::string bad_spec = run_lmul("1 2\\n", "numerics mul --mul lmul:m=0");
    CHECK(bad_spec.find("m=0 is out of range (allowed 1..23)") != std::string::npos);
    CHECK(bad_spec.find("rc=2") != std::string::npos);
  }

  TEST_CASE("cli: numerics error prints one row per spec; --list shows the registry") {
    const std::string out = run_lmul("", "numerics error --mul lmul:m=4 fp8:e5m2,scale=none --n 2000 --seed 5");
    CHECK(out.find("lmul:m=4,variant=bits,round=rne") != std::string::npos);
    CHECK(out.find("fp8:e5m2,scale=none,round=nearest") != std::string::npos);
    CHECK(out.find("2000") != std::string::npos);
    CHECK(out.find("rc=0") != std::string::npos);
    const std::string list = run_lmul("", "numerics --list");
    for (const auto& f : formats()) {
      CHECK(list.find(fmt::format("{:8}  {}", f.name, f.help)) != std::string::npos);
      CHECK(list.find(fmt::format("(e.g. {}", f.example)) != std::string::npos);
    }
    CHECK(list.find("scale=none|current|delayed*]") != std::string::npos);  // the default marked
    CHECK(list.find("; lmul export --format fp8:e4m3|e5m2)") != std::string::npos);
  }
}
